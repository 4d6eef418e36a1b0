import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { defaultSettings } from '../../core/config';
import { nodeIndexHost } from '../../core/host/nodeHost';
import { WorkspaceIndex, type IndexSummary } from '../../core/index/workspaceIndex';
import { CParser } from '../../core/parsing/cParser';
import { ensureCodeServer, startCodeServer, type RunningCodeServer } from '../support/codeServer';
import { nodeModulesWasm, ROOT } from '../support/paths';
import { waitFor } from '../support/wait';
import { openWorkbench, runCommand } from '../support/workbench';

const ALLOCATOR = path.join(ROOT, 'allocator');
const VSIX = path.join(ROOT, 'out', 'alloc-lens.vsix');
// Screenshots land in media/screenshots when asked to refresh the README's, else in out/e2e.
const SHOTS = process.env.ALLOC_LENS_UPDATE_SCREENSHOTS ? path.join(ROOT, 'media', 'screenshots') : path.join(ROOT, 'out', 'e2e');

async function expectedSummary(): Promise<IndexSummary> {
  const parser = await CParser.create(nodeModulesWasm());
  try {
    return await new WorkspaceIndex({ parser, host: nodeIndexHost }).indexAll([{ root: ALLOCATOR, limits: defaultSettings().index }]);
  } finally {
    parser.dispose();
  }
}

describe('end to end: the VSIX in code-server (real VS Code) with allocator/ open', function () {
  let server: RunningCodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let expected: IndexSummary;

  before(async function () {
    assert.ok(existsSync(VSIX), `${VSIX} is missing: run \`npm run package\` first`);
    expected = await expectedSummary();
    assert.ok(expected.files > 0, 'allocator/ holds no C files to open');
    const install = ensureCodeServer();
    server = await startCodeServer(install, VSIX, ALLOCATOR);
    ({ browser, page } = await openWorkbench(server, { width: 1400, height: 860 }));
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('activates on a C file and shows the server-indexed file count in the status bar', async () => {
    const cFile = readdirSync(path.join(ALLOCATOR, 'src')).filter((f) => f.endsWith('.c')).sort()[0];
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(cFile);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: cFile }).first().waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.tab.active', { hasText: cFile }).waitFor();
    const status = page.locator('.statusbar-item', { hasText: /Alloc Lens: \d+ files/ });
    await status.waitFor({ timeout: 90_000 });
    assert.equal((await status.innerText()).trim(), `Alloc Lens: ${expected.files} files`);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'editor.png') });
  });

  it('answers the workspace summary request in the Overview panel', async () => {
    await runCommand(page, 'Alloc Lens: Show Workspace Overview');
    const frame = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await frame.locator('[data-stat=files] .value').getByText(String(expected.files)).waitFor({ timeout: 60_000 });
    assert.equal(await frame.locator('[data-stat=atomics] .value').textContent(), expected.atomicCalls.toLocaleString('en-US'));
    assert.equal(await frame.locator('[data-stat=getenv] .value').textContent(), expected.getenvCalls.toLocaleString('en-US'));
    await page.screenshot({ path: path.join(SHOTS, 'overview.png') });
  });

  it('wrote the server start to the "Alloc Lens" log channel, and no errors', async () => {
    // A LogOutputChannel is backed by a file in the profile's logs folder: read that, not the
    // virtualised Output editor.
    const logFile = await waitFor(() => findFile(server!.dataDir, 'Alloc Lens.log'), 30_000);
    const text = await waitFor(() => {
      const t = readFileSync(logFile, 'utf8');
      return /language server started/.test(t) ? t : undefined;
    }, 30_000);
    assert.doesNotMatch(text, /\[error\]/, text);
  });
});

function findFile(dir: string, name: string): string | undefined {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name === name) return path.join(entry.parentPath, entry.name);
  }
  return undefined;
}

