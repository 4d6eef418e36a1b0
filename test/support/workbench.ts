// What the e2e tests do in the VS Code workbench (code-server in Chromium), in one place.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { AuditReport } from '../../core/analysis/report';
import { launchChromium } from './browser';
import type { RunningCodeServer } from './codeServer';
import { ROOT } from './paths';

/** Runs a command from the palette by its title. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${title}`);
  // Click the row itself: Enter would take whichever row the fuzzy match put first.
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  await row.waitFor();
  await row.click();
}

/** Opens `file` (a workspace-relative path; quick open understands `file:line`) and waits for its tab. */
export async function openFile(page: Page, file: string, line?: number): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(line ? `${file}:${line}` : file);
  // Enter opens the focused row: wait until filtering has put the file there.
  await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: path.basename(file) }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: path.basename(file) }).waitFor();
}

/** The analysis of `folder` from the bundled CLI, over the same core as the server. */
export function auditFolder(folder: string): AuditReport {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'audit', folder, '--format', 'json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `alloc-lens audit failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as AuditReport;
}

/** A copy of allocator/ (no build outputs, results or settings) in a fresh temp dir: `<tmp>/allocator`. */
export function copyOfAllocator(prefix: string): string {
  const folder = path.join(mkdtempSync(path.join(tmpdir(), prefix)), 'allocator');
  cpSync(path.join(ROOT, 'allocator'), folder, { recursive: true, filter: (src) => !/[/\\](build|\.alloc-lens|\.vscode)$/.test(src) });
  return folder;
}

/** Chromium on a fresh page of the workbench `server` serves, once the workbench is up. */
export async function openWorkbench(server: RunningCodeServer, viewport = { width: 1400, height: 900 }): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport });
    await page.goto(server.url);
    await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
    return { browser, page };
  } catch (err) {
    // The caller's after() never sees this browser: close it here, nothing left running.
    await browser.close();
    throw err;
  }
}
