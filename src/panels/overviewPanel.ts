import * as vscode from 'vscode';
import type { HostToPage, PageToHost } from '../../protocol/overview';
import type { Ctx } from '../ctx';
import { PAGES } from './html';
import { loadPage, webviewOptions } from './webviewShell';

/**
 * "Alloc Lens: Workspace Overview": what the server indexed, per file. One panel at a time;
 * restored after a window reload through the serializer.
 */
export class OverviewPanel {
  static readonly viewType = 'allocLens.overview';
  private static current: OverviewPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  static createOrShow(ctx: Ctx): OverviewPanel {
    if (OverviewPanel.current) {
      OverviewPanel.current.panel.reveal(vscode.ViewColumn.Active);
      return OverviewPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(
      OverviewPanel.viewType,
      'Alloc Lens Overview',
      vscode.ViewColumn.Active,
      webviewOptions(ctx),
    );
    OverviewPanel.current = new OverviewPanel(panel, ctx);
    return OverviewPanel.current;
  }

  static registerSerializer(ctx: Ctx): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(OverviewPanel.viewType, {
      deserializeWebviewPanel: async (panel) => {
        panel.webview.options = webviewOptions(ctx);
        OverviewPanel.current = new OverviewPanel(panel, ctx);
      },
    });
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly ctx: Ctx,
  ) {
    const webview = panel.webview;
    loadPage(panel, ctx, PAGES.overview);
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      webview.onDidReceiveMessage((m: PageToHost) => this.onMessage(m)),
      ctx.onDidChangeIndex((state) => {
        void this.post({ type: 'state', state });
        if (state.state === 'ready') void this.sendSummary();
      }),
    );
  }

  private async onMessage(message: PageToHost): Promise<void> {
    switch (message.type) {
      case 'ready':
        await this.sendSummary();
        break;
      case 'refresh':
        try {
          await this.ctx.reindex();
          await this.sendSummary();
        } catch (err) {
          await this.post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
        }
        break;
      case 'openFile': {
        const line = Math.max(0, (message.line ?? 1) - 1);
        await vscode.window.showTextDocument(vscode.Uri.file(message.path), {
          selection: new vscode.Range(line, 0, line, 0),
          viewColumn: vscode.ViewColumn.One,
        });
        break;
      }
    }
  }

  private async sendSummary(): Promise<void> {
    try {
      await this.post({ type: 'summary', summary: await this.ctx.workspaceSummary() });
    } catch (err) {
      await this.post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  }

  private post(message: HostToPage): Thenable<boolean> {
    return this.panel.webview.postMessage(message);
  }

  dispose(): void {
    if (OverviewPanel.current === this) OverviewPanel.current = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
