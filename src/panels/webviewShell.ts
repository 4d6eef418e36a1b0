import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import { renderWebviewHtml, type PageAssets } from './html';

/** Scripts on, and resources only from the bundles (dist/webview) and media/. */
export function webviewOptions(ctx: Ctx): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: false,
    localResourceRoots: [vscode.Uri.joinPath(ctx.extCtx.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(ctx.extCtx.extensionUri, 'media')],
  };
}

/** Sets a panel's icon and its HTML shell (CSP with nonce) for one bundled page. */
export function loadPage(panel: vscode.WebviewPanel, ctx: Ctx, page: PageAssets): void {
  const webview = panel.webview;
  const asset = (p: string) => webview.asWebviewUri(vscode.Uri.joinPath(ctx.extCtx.extensionUri, ...p.split('/'))).toString();
  panel.iconPath = vscode.Uri.joinPath(ctx.extCtx.extensionUri, 'media', 'icon.png');
  webview.html = renderWebviewHtml({
    title: page.title,
    cspSource: webview.cspSource,
    scriptUri: asset(page.script),
    styleUris: page.styles.map(asset),
    codiconsUri: asset('dist/webview/codicon.css'),
  });
}
