import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { IndexSummary } from '../../protocol/lsp';
import type { HostToPage, PageToHost } from '../../protocol/overview';
import { PAGES } from '../../src/panels/html';
import { useWebviewPage } from '../support/webviewPage';

function summary(over: Partial<IndexSummary> = {}): IndexSummary {
  return {
    roots: ['/w'],
    files: 3,
    parsedFiles: 2,
    functions: 12,
    atomicCalls: 5,
    getenvCalls: 2,
    filesWithErrors: 1,
    skipped: { overCap: 0, tooLarge: 0, unreadable: 0 },
    durationMs: 42,
    complete: true,
    perFile: [
      { path: '/w/src/pool.c', bytes: 10, functions: 4, atomicCalls: 4, getenvCalls: 1, errorLines: [] },
      { path: '/w/src/broken.c', bytes: 10, functions: 1, atomicCalls: 1, getenvCalls: 1, errorLines: [7] },
      { path: '/w/src/plain.c', bytes: 10, functions: 7, atomicCalls: 0, getenvCalls: 0, errorLines: [] },
    ],
    ...over,
  };
}

describe('overview webview page (Chromium)', () => {
  const view = useWebviewPage<HostToPage, PageToHost>(PAGES.overview);
  let page: Page;
  beforeEach(async () => {
    page = view().page;
  });

  const sent = () => view().sent();
  const post = (m: HostToPage) => view().post(m);

  it('asks the host for data once it is loaded, and waits for it', async () => {
    await page.waitForFunction(() => (window as unknown as { __sent: unknown[] }).__sent.length > 0);
    assert.deepEqual(await sent(), [{ type: 'ready' }]);
    await page.getByText('Waiting for the language server').waitFor();
  });

  it('renders the counts and only the files with atomics, getenv calls or errors', async () => {
    await post({ type: 'summary', summary: summary() });
    await page.locator('[data-stat=atomics] .value').getByText('5').waitFor();
    assert.equal(await page.locator('[data-stat=files] .value').textContent(), '3');
    assert.equal(await page.locator('[data-stat=errors] .value').textContent(), '1');
    const rows = page.locator('vscode-table-row[data-path]');
    assert.deepEqual(await rows.evaluateAll((r) => r.map((x) => x.getAttribute('data-path'))), ['/w/src/pool.c', '/w/src/broken.c']);
    assert.equal(await rows.nth(0).locator('a').textContent(), 'src/pool.c');
    await page.getByText('line 7').waitFor();
  });

  it('asks the host to open a file at its first error when a row is clicked', async () => {
    await post({ type: 'summary', summary: summary() });
    await page.getByText('src/broken.c').click();
    assert.deepEqual((await sent()).at(-1), { type: 'openFile', path: '/w/src/broken.c', line: 7 });
  });

  it('sends refresh and shows progress when Reindex is clicked', async () => {
    await post({ type: 'summary', summary: summary() });
    await page.locator('#refresh').click();
    assert.deepEqual((await sent()).at(-1), { type: 'refresh' });
    await page.locator('vscode-progress-ring').waitFor();
  });

  it('shows file names as text, never as markup', async () => {
    const evil = '/w/<img src=x onerror="window.__pwned=1">.c';
    await post({ type: 'summary', summary: summary({ perFile: [{ path: evil, bytes: 1, functions: 0, atomicCalls: 1, getenvCalls: 0, errorLines: [] }] }) });
    await page.getByText('<img src=x onerror="window.__pwned=1">.c').waitFor();
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  });

  it('shows server errors as an alert', async () => {
    await post({ type: 'error', message: 'the Alloc Lens language server is not running' });
    assert.equal(await page.getByRole('alert').textContent(), 'the Alloc Lens language server is not running');
  });

  it('redraws from its saved state after a reload, before the host answers', async () => {
    await post({ type: 'summary', summary: summary({ files: 77 }) });
    await page.locator('[data-stat=files] .value').getByText('77').waitFor();
    await page.reload();
    await page.locator('[data-stat=files] .value').getByText('77').waitFor();
  });
});
