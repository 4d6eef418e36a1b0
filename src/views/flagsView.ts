// The Flags & Gates view (issue #5): compile flags, ENV gates and atomics of each workspace
// folder, from the server's `allocLens/audit`. The tree's shape lives in flagsModel.ts (pure);
// this file fetches, caches per folder, refreshes and turns nodes into TreeItems.
import * as vscode from 'vscode';
import type { AuditReport } from '../../protocol/lsp';
import { readSettings } from '../config';
import type { Ctx } from '../ctx';
import type { ServerStatus } from '../statusBar';
import { buildTree, profileDescription, type FlagsNode, type FolderInput, type FolderState } from './flagsModel';

export const FLAGS_VIEW_ID = 'allocLens.flagsAndGates';
const REFRESH_DEBOUNCE_MS = 300;

export class FlagsView implements vscode.TreeDataProvider<FlagsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<FlagsNode>;
  /** By folder path; a report stays shown while a newer one is on its way. */
  private readonly states = new Map<string, FolderState>();
  private roots: FlagsNode[] = [];
  private generation = 0;
  /** Something changed while the view was hidden: fetch again when it shows. */
  private stale = true;
  private timer?: ReturnType<typeof setTimeout>;
  private lastStatus: ServerStatus['kind'];
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly ctx: Ctx) {
    this.lastStatus = ctx.serverStatus.kind;
    this.view = vscode.window.createTreeView(FLAGS_VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    this.disposables.push(
      this.view,
      this.changed,
      this.view.onDidChangeVisibility((e) => {
        if (e.visible && this.stale) this.refresh();
      }),
      ctx.onDidChangeIndex((state) => {
        if (state.state === 'ready') this.scheduleRefresh();
        else this.render();
      }),
      ctx.onDidChangeServerStatus((status) => {
        // Index states come through here too; only a start or stop matters.
        if (status.kind !== this.lastStatus) this.scheduleRefresh();
        this.lastStatus = status.kind;
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.scheduleRefresh()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        // The profile only changes how the reports read; anything else may change the analysis.
        if (e.affectsConfiguration('allocLens.analysis') || e.affectsConfiguration('allocLens.index')) this.scheduleRefresh();
        else if (e.affectsConfiguration('allocLens.profile') || e.affectsConfiguration('allocLens.ab.profiles')) this.render();
      }),
    );
    this.render();
    if (this.view.visible) this.scheduleRefresh();
  }

  /** The last report of a folder (its file system path), if one has arrived. */
  report(folder: string): AuditReport | undefined {
    const s = this.states.get(folder);
    return s?.kind === 'ready' ? s.report : undefined;
  }

  scheduleRefresh(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), REFRESH_DEBOUNCE_MS);
  }

  /** Asks the server for every folder's audit again (only while the view is visible). */
  refresh(): void {
    clearTimeout(this.timer);
    if (!this.view.visible) {
      this.stale = true;
      return;
    }
    this.stale = false;
    const generation = ++this.generation;
    const folders = vscode.workspace.workspaceFolders ?? [];
    const live = new Set(folders.map((f) => f.uri.fsPath));
    for (const key of [...this.states.keys()]) if (!live.has(key)) this.states.delete(key);
    if (!this.ctx.isRunning) {
      this.states.clear();
      this.render();
      return;
    }
    for (const f of folders) {
      const key = f.uri.fsPath;
      if (this.states.get(key)?.kind !== 'ready') this.states.set(key, { kind: 'loading', indexing: false });
      this.ctx.audit(f.uri.toString()).then(
        (report) => {
          if (generation !== this.generation) return;
          this.states.set(key, { kind: 'ready', report });
          this.render();
        },
        (err: unknown) => {
          if (generation !== this.generation) return;
          const message = err instanceof Error ? err.message : String(err);
          this.ctx.log.warn(`Flags & Gates: the audit of ${key} failed: ${message}`);
          this.states.set(key, { kind: 'error', message });
          this.render();
        },
      );
    }
    this.render();
  }

  private folderInputs(): FolderInput[] {
    const indexing = this.ctx.indexState?.state === 'indexing';
    return (vscode.workspace.workspaceFolders ?? []).map((f) => {
      const settings = readSettings(f.uri).settings;
      const state = this.states.get(f.uri.fsPath) ?? { kind: 'loading', indexing };
      return {
        name: f.name,
        folder: f.uri.fsPath,
        profile: settings.profile,
        abProfiles: settings.ab.profiles,
        state: state.kind === 'loading' ? { kind: 'loading', indexing } : state,
      };
    });
  }

  private render(): void {
    const inputs = this.folderInputs();
    const status = this.ctx.serverStatus.kind;
    // Nothing to show (no folder, no server, or still indexing before the first report): an
    // empty tree lets the view's welcome content say why.
    const waitingForIndex = inputs.every((f) => f.state.kind === 'loading' && f.state.indexing);
    this.roots = status !== 'running' || inputs.length === 0 || waitingForIndex ? [] : buildTree(inputs, { toUri: (p) => vscode.Uri.file(p).toString() });
    this.view.description = inputs.length ? profileDescription(inputs) : undefined;
    void vscode.commands.executeCommand('setContext', 'allocLens.indexing', this.ctx.indexState?.state === 'indexing');
    this.changed.fire();
  }

  getTreeItem(node: FlagsNode): vscode.TreeItem {
    const collapsible = node.children?.length
      ? node.expanded
        ? vscode.TreeItemCollapsibleState.Expanded
        : vscode.TreeItemCollapsibleState.Collapsed
      : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(node.label, collapsible);
    item.id = node.id;
    item.description = node.description;
    if (node.tooltip) item.tooltip = new vscode.MarkdownString(node.tooltip);
    if (node.icon) item.iconPath = new vscode.ThemeIcon(node.icon.id, node.icon.color ? new vscode.ThemeColor(node.icon.color) : undefined);
    item.contextValue = node.contextValue;
    if (node.source) item.command = { command: 'allocLens.goToSource', title: 'Go to Source', arguments: [node] };
    else if (node.command) item.command = { command: node.command, title: node.label, arguments: [node] };
    return item;
  }

  getChildren(node?: FlagsNode): FlagsNode[] {
    return node ? (node.children ?? []) : this.roots;
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** "Go to Source" (and a click on an item): opens the item's file at its line and column. */
export async function goToSource(arg: unknown): Promise<void> {
  const source = (arg as Partial<FlagsNode> | undefined)?.source;
  if (!source) throw new Error('this item has no source location to open');
  const at = new vscode.Position(source.line, source.character);
  await vscode.window.showTextDocument(vscode.Uri.file(source.path), { selection: new vscode.Range(at, at), preview: true });
}
