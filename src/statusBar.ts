import * as vscode from 'vscode';
import type { IndexState } from '../protocol/lsp';

export type ServerStatus =
  | { kind: 'starting' }
  | { kind: 'running'; index?: IndexState }
  | { kind: 'stopped'; reason?: string }
  | { kind: 'disabled' };

/** One status bar item that shows the server's state and the index counts. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('allocLens.status', vscode.StatusBarAlignment.Left, 10);
  private status: ServerStatus = { kind: 'starting' };
  /** The active ENV profile (`allocLens.profile`), shown in the tooltip. */
  private profile?: string;

  constructor() {
    this.item.name = 'Alloc Lens';
    this.item.command = 'allocLens.showOverview';
    this.set({ kind: 'starting' });
    this.item.show();
  }

  setProfile(profile: string | undefined): void {
    this.profile = profile;
    this.set(this.status);
  }

  set(status: ServerStatus): void {
    this.status = status;
    const tip = new vscode.MarkdownString(undefined, true);
    tip.isTrusted = { enabledCommands: ['allocLens.restartServer', 'allocLens.showLog', 'allocLens.showOverview', 'allocLens.selectProfile'] };
    this.item.backgroundColor = undefined;
    switch (status.kind) {
      case 'starting':
        this.item.text = '$(sync~spin) Alloc Lens';
        tip.appendMarkdown('Alloc Lens: starting the language server…');
        break;
      case 'running': {
        const idx = status.index;
        if (!idx || idx.state === 'indexing') {
          this.item.text = '$(sync~spin) Alloc Lens';
          tip.appendMarkdown('Alloc Lens: indexing C files…');
        } else if (idx.state === 'failed') {
          this.item.text = '$(warning) Alloc Lens';
          this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
          tip.appendMarkdown(`Alloc Lens: indexing failed: ${idx.message ?? 'unknown error'}`);
        } else {
          this.item.text = `$(pulse) Alloc Lens: ${idx.files} files`;
          tip.appendMarkdown(
            `**Alloc Lens** — ${idx.files} C files indexed\n\n` +
              `${idx.atomicCalls} atomic operations · ${idx.getenvCalls} getenv calls`,
          );
        }
        break;
      }
      case 'stopped':
        this.item.text = '$(error) Alloc Lens';
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        tip.appendMarkdown(`Alloc Lens: the language server stopped${status.reason ? `: ${status.reason}` : ''}.`);
        break;
      case 'disabled':
        this.item.text = '$(circle-slash) Alloc Lens';
        tip.appendMarkdown('Alloc Lens: the language server is off (`allocLens.server.enable`).');
        break;
    }
    tip.appendMarkdown(`\n\nProfile: `);
    if (this.profile) tip.appendText(this.profile);
    else tip.appendMarkdown('none (defaults)');
    tip.appendMarkdown(
      '\n\n[Overview](command:allocLens.showOverview) · [Select Profile](command:allocLens.selectProfile) · [Restart](command:allocLens.restartServer) · [Log](command:allocLens.showLog)',
    );
    this.item.tooltip = tip;
  }

  dispose(): void {
    this.item.dispose();
  }
}
