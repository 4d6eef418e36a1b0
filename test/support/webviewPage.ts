// Serves one bundled webview page to Chromium as VS Code would: the same HTML shell and CSP
// (src/panels/html.ts), from a fake origin through request interception, with a fake
// acquireVsCodeApi injected before the page runs. State survives page.reload() (sessionStorage).
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { renderWebviewHtml, type PageAssets } from '../../src/panels/html';
import { launchChromium } from './browser';
import { ROOT } from './paths';

export const ORIGIN = 'https://alloc-lens.test';

export interface WebviewPage<In, Out> {
  page: Page;
  /** Page errors, console errors/warnings and CSP violations seen so far. */
  problems: string[];
  /** Messages the page posted to the host, in order. */
  sent(): Promise<Out[]>;
  /** Delivers a host message to the page. */
  post(message: In): Promise<void>;
}

export async function openWebviewPage<In, Out>(browser: Browser, opts: PageAssets): Promise<WebviewPage<In, Out>> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  await page.route(`${ORIGIN}/**`, (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/index.html') {
      const html = renderWebviewHtml({
        title: opts.title,
        cspSource: ORIGIN,
        scriptUri: `${ORIGIN}/${opts.script}`,
        styleUris: opts.styles.map((s) => `${ORIGIN}/${s}`),
        codiconsUri: `${ORIGIN}/dist/webview/codicon.css`,
      });
      return route.fulfill({ contentType: 'text/html', body: html });
    }
    const file = path.join(ROOT, url.pathname);
    const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : file.endsWith('.ttf') ? 'font/ttf' : 'application/octet-stream';
    return route.fulfill({ contentType: type, body: readFileSync(file) });
  });
  // tsx compiles with keepNames, so functions shipped to the page call esbuild's __name.
  await page.addInitScript({ content: 'window.__name = (f) => f;' });
  await page.addInitScript(() => {
    const w = window as unknown as { __sent: unknown[]; __state: unknown; acquireVsCodeApi: () => unknown };
    w.__sent = [];
    w.__state = JSON.parse(sessionStorage.getItem('state') ?? 'null') ?? undefined;
    w.acquireVsCodeApi = () => ({
      postMessage: (m: unknown) => w.__sent.push(m),
      getState: () => w.__state,
      setState: (s: unknown) => {
        w.__state = s;
        sessionStorage.setItem('state', JSON.stringify(s));
      },
    });
  });
  // CSP violations do not always reach the console: listen for them directly.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(`${ORIGIN}/index.html`);
  return {
    page,
    problems,
    sent: () => page.evaluate(() => (window as unknown as { __sent: Out[] }).__sent),
    post: (m: In) => page.evaluate((msg) => window.postMessage(msg, '*'), m as unknown),
  };
}

/**
 * Mocha hooks for a webview suite: one Chromium for the suite, a fresh page per test, and
 * after each test no page errors, console errors or CSP violations. Returns the current page.
 */
export function useWebviewPage<In, Out>(assets: PageAssets): () => WebviewPage<In, Out> {
  let browser: Browser | undefined;
  let view: WebviewPage<In, Out> | undefined;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    view = await openWebviewPage<In, Out>(browser!, assets);
  });
  afterEach(async () => {
    await view?.page.close();
    assert.deepEqual(view?.problems, [], 'the page logged errors or CSP violations');
  });
  return () => view!;
}
