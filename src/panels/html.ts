// The HTML shell of every Alloc Lens webview. Pure (no vscode import), so the webview test
// tier loads exactly the page VS Code shows, CSP included.
import { randomBytes } from 'node:crypto';

export interface WebviewShell {
  title: string;
  /** `webview.cspSource` in VS Code; the test server's origin in tests. */
  cspSource: string;
  scriptUri: string;
  styleUris: string[];
  /** dist/webview/codicon.css: vscode-elements finds it by the id `vscode-codicon-stylesheet`. */
  codiconsUri: string;
  nonce?: string;
}

export interface PageAssets {
  title: string;
  /** Paths relative to the extension root. */
  script: string;
  styles: string[];
}

/** The bundled pages: the panels load them and the webview tests serve exactly these. */
export const PAGES = {
  overview: { title: 'Alloc Lens Overview', script: 'dist/webview/overview.js', styles: ['media/common/base.css', 'media/overview/overview.css'] },
  ab: { title: 'Alloc Lens A/B Results', script: 'dist/webview/ab.js', styles: ['media/common/base.css', 'media/ab/ab.css'] },
} satisfies Record<string, PageAssets>;

export function makeNonce(): string {
  return randomBytes(18).toString('base64url');
}

const escapeAttr = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Only the nonce'd bundle may run; styles and fonts come from the extension's own resources.
 * No data is ever pasted into the page: it arrives by postMessage.
 */
export function renderWebviewHtml(shell: WebviewShell): string {
  const nonce = shell.nonce ?? makeNonce();
  const csp = [
    `default-src 'none'`,
    `img-src ${shell.cspSource} data:`,
    `font-src ${shell.cspSource}`,
    `style-src ${shell.cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  const codicons = `<link rel="stylesheet" id="vscode-codicon-stylesheet" href="${escapeAttr(shell.codiconsUri)}">`;
  const styles = shell.styleUris.map((u) => `<link rel="stylesheet" href="${escapeAttr(u)}">`).join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    ${codicons}
    ${styles}
    <title>${escapeAttr(shell.title)}</title>
  </head>
  <body>
    <main id="app" aria-live="polite"></main>
    <script type="module" nonce="${nonce}" src="${escapeAttr(shell.scriptUri)}"></script>
  </body>
</html>`;
}
