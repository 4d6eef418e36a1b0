import * as vscode from 'vscode';
import type { AbPageState, HostToPage, PageToHost } from '../../protocol/ab';
import type { Ctx } from '../ctx';
import { PAGES } from './html';
import { loadPage, webviewOptions } from './webviewShell';

/**
 * "Alloc Lens: A/B Results": the experiment running in a folder, live, or its last result, and
 * the folder's history. One panel at a time; restored after a reload through the serializer
 * (the page redraws from its saved state and the host re-reads the result it names).
 */
export class AbPanel {
  static readonly viewType = 'allocLens.abResults';
  private static current: AbPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  /** Shows the panel for `folder`; `resultId` picks a stored result instead of the latest. */
  static createOrShow(ctx: Ctx, folder: string, resultId?: string): AbPanel {
    const existing = AbPanel.current;
    if (existing) {
      existing.panel.reveal(undefined, true);
      if (existing.folder !== folder || resultId) {
        existing.folder = folder;
        void existing.sendResult(resultId);
      }
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(AbPanel.viewType, 'A/B Results', { viewColumn: vscode.ViewColumn.Active, preserveFocus: true }, webviewOptions(ctx));
    AbPanel.current = new AbPanel(panel, ctx, folder);
    return AbPanel.current;
  }

  static registerSerializer(ctx: Ctx): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(AbPanel.viewType, {
      deserializeWebviewPanel: async (panel, state: AbPageState | undefined) => {
        panel.webview.options = webviewOptions(ctx);
        const folder = state?.result?.config.folder ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
        AbPanel.current?.dispose();
        AbPanel.current = new AbPanel(panel, ctx, folder);
      },
    });
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly ctx: Ctx,
    private folder: string,
  ) {
    const webview = panel.webview;
    loadPage(panel, ctx, PAGES.ab);
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      webview.onDidReceiveMessage((m: PageToHost) => this.onMessage(m)),
      ctx.ab.onDidEvent(({ folder, event }) => {
        if (event.type === 'started') this.folder = folder;
        if (folder !== this.folder) return;
        void this.post({ type: 'event', event });
      }),
      ctx.ab.onDidFinish((result) => {
        if (result.config.folder === this.folder) void this.sendHistory();
      }),
    );
  }

  private async onMessage(message: PageToHost): Promise<void> {
    switch (message.type) {
      case 'ready':
        // A reload in the middle of a run replays what the run has emitted so far.
        if (this.ctx.ab.isRunning(this.folder)) {
          for (const event of this.ctx.ab.replay(this.folder)) await this.post({ type: 'event', event });
        } else {
          await this.sendResult(message.resultId);
        }
        await this.sendHistory();
        break;
      case 'export':
        await vscode.commands.executeCommand('allocLens.abExport', { folder: this.folder, resultId: message.resultId, format: message.format });
        break;
      case 'rerun':
        await vscode.commands.executeCommand('allocLens.abRerun');
        break;
      case 'cancel':
        this.ctx.ab.cancel(this.folder);
        break;
    }
  }

  private async sendResult(resultId?: string): Promise<void> {
    try {
      const result = await this.ctx.ab.loadResult(this.folder, resultId);
      await this.post(result ? { type: 'result', result } : { type: 'empty', folder: vscode.workspace.asRelativePath(this.folder) || this.folder });
    } catch (err) {
      await this.post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  }

  private async sendHistory(): Promise<void> {
    try {
      await this.post({ type: 'history', history: await this.ctx.ab.history(this.folder) });
    } catch (err) {
      this.ctx.log.warn(`A/B history of ${this.folder}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private post(message: HostToPage): Thenable<boolean> {
    return this.panel.webview.postMessage(message);
  }

  dispose(): void {
    if (AbPanel.current === this) AbPanel.current = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
