import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import type { HistoryEntry } from '../../core/ab/results';
import type { ExperimentResult } from '../../core/ab/types';
import { ensureCodeServer, startCodeServer, type RunningCodeServer } from '../support/codeServer';
import { ROOT } from '../support/paths';
import { waitFor } from '../support/wait';
import { openWorkbench, runCommand } from '../support/workbench';

// "Run A/B for Flag…" and an allocLens.ab task, for real: make builds both variants of a copy of
// allocator/, the benchmark runs interleaved, and the results panel shows the verdict.
const VSIX = path.join(ROOT, 'out', 'alloc-lens.vsix');
const SHOTS = process.env.ALLOC_LENS_UPDATE_SCREENSHOTS ? path.join(ROOT, 'media', 'screenshots') : path.join(ROOT, 'out', 'e2e');
const FLAG = 'QUILL_CLASS_STATS_COMPILED';
const TASK_LABEL = 'A/B free stats (e2e)';
const LONG_TASK_LABEL = 'A/B mid lock stats, long (e2e)';

// A small budget, so both experiments finish in well under two minutes on a shared 2-core machine.
const AB_SETTINGS = {
  'allocLens.ab.minPairs': 5,
  'allocLens.ab.maxPairs': 8,
  'allocLens.ab.warmup': 1,
  'allocLens.ab.budgetSeconds': 40,
};

/** Types into the open quick input (the one whose placeholder matches, if given) and accepts the row that shows `row`. */
async function pick(page: Page, text: string, row = text, placeholder?: string): Promise<void> {
  const input = page.locator(placeholder ? `.quick-input-widget input[placeholder*="${placeholder}"]` : '.quick-input-widget input');
  await input.waitFor({ timeout: 30_000 });
  await input.fill(text);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: row }).first().waitFor({ timeout: 30_000 });
  await page.keyboard.press('Enter');
}

function history(folder: string): HistoryEntry[] {
  const file = path.join(folder, '.alloc-lens', 'results', 'history.json');
  if (!existsSync(file)) return [];
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { entries: HistoryEntry[] }).entries;
  } catch {
    return []; // being replaced (atomic rename): look again
  }
}

describe('end to end: A/B experiments in code-server on a copy of allocator/', function () {
  let server: RunningCodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let folder: string;
  let panel: FrameLocator;

  before(async function () {
    assert.ok(existsSync(VSIX), `${VSIX} is missing: run \`npm run package\` first`);
    // A copy, so build outputs and results never land in the repository.
    folder = path.join(mkdtempSync(path.join(tmpdir(), 'alloc-lens-ab-e2e-')), 'allocator');
    cpSync(path.join(ROOT, 'allocator'), folder, { recursive: true, filter: (src) => !/[/\\](build|\.alloc-lens)$/.test(src) });
    mkdirSync(path.join(folder, '.vscode'));
    writeFileSync(
      path.join(folder, '.vscode', 'tasks.json'),
      JSON.stringify({ version: '2.0.0', tasks: [
          { type: 'allocLens.ab', label: TASK_LABEL, flag: 'QUILL_FREE_STATS_COMPILED', a: 0, b: 1, minPairs: 5, maxPairs: 6, problemMatcher: [] },
          { type: 'allocLens.ab', label: LONG_TASK_LABEL, flag: 'QUILL_MID_LOCK_STATS_COMPILED', minPairs: 40, maxPairs: 40, problemMatcher: [] },
        ],
      }, null, 2),
    );
    server = await startCodeServer(ensureCodeServer(), VSIX, folder, AB_SETTINGS);
    ({ browser, page } = await openWorkbench(server, { width: 1400, height: 1000 }));
    panel = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (folder) rmSync(path.dirname(folder), { recursive: true, force: true });
  });

  it('"Run A/B for Flag…" builds both variants, runs them and shows the verdict in the results panel', async () => {
    // Open a C file: the language server starts, so the flag list comes from the index.
    await page.keyboard.press('Control+P');
    await pick(page, 'quill_tiny.c');
    await page.locator('.statusbar-item', { hasText: /Alloc Lens: \d+ files/ }).waitFor({ timeout: 90_000 });

    await runCommand(page, 'Alloc Lens: Run A/B for Flag…');
    // The flags come from the server's allocLens/audit: the row shows the flag's default and uses.
    const input = page.locator('.quick-input-widget input[placeholder*="Pick the compile flag"]');
    await input.waitFor({ timeout: 60_000 });
    await input.fill(FLAG);
    const flagRow = page.locator('.quick-input-list .monaco-list-row', { hasText: FLAG }).first();
    await flagRow.waitFor();
    assert.match((await flagRow.textContent()) ?? '', /default 0 · \d+ uses?/);
    await page.keyboard.press('Enter');
    await pick(page, 'A = 0, B = 1');

    // The panel opens at once and streams the run; then the final verdict replaces "so far".
    await panel.locator('header h1', { hasText: `A/B ${FLAG}` }).waitFor({ timeout: 30_000 });
    await panel.locator('#status', { hasText: /^completed/ }).waitFor({ timeout: 150_000 });
    const verdict = await panel.locator('header .verdict').getAttribute('data-verdict');
    assert.ok(['GO', 'NO-GO', 'NEUTRAL', 'INCONCLUSIVE'].includes(verdict ?? ''), `verdict badge: ${verdict}`);
    const pairs = Number(await panel.locator('[data-stat=pairs] .value').textContent());
    assert.ok(pairs >= 5 && pairs <= 8, `pairs within the budget: ${pairs}`);
    const plotted = await panel.locator('#chart-runs').evaluate((c) => Number((c as HTMLElement).dataset.a));
    assert.equal(plotted, pairs, 'the run plot shows every measured A sample');

    // The result is on disk, in the history the panel shows.
    const entries = await waitFor(() => (history(folder).length === 1 ? history(folder) : undefined), 30_000);
    assert.equal(entries[0].flag, FLAG);
    assert.equal(entries[0].verdict, verdict);
    const stored = JSON.parse(readFileSync(path.join(folder, '.alloc-lens', 'results', `${entries[0].id}.json`), 'utf8')) as ExperimentResult;
    assert.equal(stored.status, 'completed');
    assert.deepEqual(stored.config.variants.map((v) => v.defines[FLAG]), ['0', '1']);
    assert.equal(stored.config.maxPairs, AB_SETTINGS['allocLens.ab.maxPairs'], 'the allocLens.ab.* settings reach the engine');
    await panel.locator('#history vscode-table-row', { hasText: FLAG }).first().waitFor();

    await page.keyboard.press('Escape'); // the verdict notification
    await runCommand(page, 'View: Close Primary Side Bar'); // room for the panel in the screenshot
    await page.locator('.part.sidebar').waitFor({ state: 'hidden' });
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'ab.png') });
  });

  it('Export Markdown in the panel writes the engine\'s report where the save dialog says', async () => {
    const id = history(folder)[0].id;
    await panel.locator('#export-md').click();
    // code-server's save dialog is a quick input holding the proposed path: accept it.
    const input = page.locator('.quick-input-widget input');
    await page.locator('.quick-input-widget', { hasText: 'Export the A/B report' }).waitFor({ timeout: 30_000 });
    // The dialog fills in the folder first, then the proposed file name.
    await waitFor(async () => (await input.inputValue()).endsWith(`/allocator/${id}.md`), 30_000);
    await page.keyboard.press('Enter');
    const report = await waitFor(() => {
      const file = path.join(folder, `${id}.md`);
      // The file appears before its content lands: wait for the report's last section.
      const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      return text.includes('## Raw data') ? text : undefined;
    }, 30_000);
    assert.match(report, new RegExp(`^# ${FLAG} A/B results`));
    assert.match(report, /## Verdict and reasoning/);
    assert.match(report, /## Raw data/);
    await page.locator('.notification-toast', { hasText: `exported ${id}.md` }).waitFor({ timeout: 30_000 });
    await page.keyboard.press('Escape');
  });

  it('runs an allocLens.ab task from tasks.json (resolveTask + pseudoterminal) and the panel follows it', async () => {
    await runCommand(page, 'Tasks: Run Task');
    await pick(page, TASK_LABEL, TASK_LABEL, 'task to run');
    const entries = await waitFor(() => {
      const h = history(folder);
      return h.length === 2 ? h : undefined;
    }, 150_000);
    const task = entries[1];
    assert.equal(task.flag, 'QUILL_FREE_STATS_COMPILED');
    assert.equal(task.status, 'completed');
    assert.ok(task.pairs >= 5 && task.pairs <= 6, `the task's maxPairs is used: ${task.pairs}`);
    await panel.locator('header h1', { hasText: 'A/B QUILL_FREE_STATS_COMPILED' }).waitFor({ timeout: 30_000 });
    await panel.locator('#history vscode-table-row', { hasText: 'QUILL_FREE_STATS_COMPILED' }).first().waitFor({ timeout: 30_000 });
    // Each experiment built into its own out dirs under .alloc-lens/build.
    assert.deepEqual(readdirSync(path.join(folder, '.alloc-lens', 'build')).sort(), [stored(entries[0]).name, stored(task).name].sort());
  });

  it('Cancel in the progress notification stops the experiment: partial samples kept, marked cancelled, nothing left running', async () => {
    const flag = 'QUILL_DIAG_COMPILED';
    await runCommand(page, 'Alloc Lens: Run A/B for Flag…');
    await pick(page, flag);
    await pick(page, 'A = 0, B = 1');
    await panel.locator('header h1', { hasText: `A/B ${flag}` }).waitFor({ timeout: 30_000 });
    // Cancel once measured samples are in, while the budget still has pairs to go.
    await panel.locator('#chart-runs[data-a]:not([data-a="0"])').waitFor({ timeout: 90_000 });
    await page.locator('.notification-toast', { hasText: `A/B ${flag}` }).getByRole('button', { name: 'Cancel' }).click();
    const entries = await waitFor(() => {
      const h = history(folder);
      return h.length === 3 ? h : undefined;
    }, 60_000);
    const result = stored(entries[2]);
    assert.equal(result.status, 'cancelled');
    assert.ok(result.runs.some((r) => !r.warmup && r.value !== null), 'the measured samples are kept');
    assert.ok(result.pairs < AB_SETTINGS['allocLens.ab.maxPairs'], `stopped early: ${result.pairs} pairs`);
    await panel.locator('header .verdict', { hasText: 'cancelled' }).waitFor({ timeout: 30_000 });
    const left = spawnSync('pgrep', ['-f', path.join(folder, '.alloc-lens', 'build')], { encoding: 'utf8' });
    assert.equal(left.stdout.trim(), '', 'no build or benchmark process survives the cancel');
  });

  it('Ctrl-C in the task terminal cancels the task\'s experiment', async () => {
    await runCommand(page, 'Tasks: Run Task');
    await pick(page, LONG_TASK_LABEL, LONG_TASK_LABEL, 'task to run');
    await panel.locator('header h1', { hasText: 'A/B QUILL_MID_LOCK_STATS_COMPILED' }).waitFor({ timeout: 60_000 });
    await panel.locator('#chart-runs[data-a]:not([data-a="0"])').waitFor({ timeout: 90_000 });
    await page.locator('.terminal-wrapper.active .xterm').click();
    await page.keyboard.press('Control+C');
    const entries = await waitFor(() => {
      const h = history(folder);
      return h.length === 4 ? h : undefined;
    }, 60_000);
    assert.equal(entries[3].flag, 'QUILL_MID_LOCK_STATS_COMPILED');
    assert.equal(entries[3].status, 'cancelled');
    assert.ok(entries[3].pairs < 40, `stopped early: ${entries[3].pairs} pairs`);
  });

  function stored(e: HistoryEntry): ExperimentResult {
    return JSON.parse(readFileSync(path.join(folder, '.alloc-lens', 'results', `${e.id}.json`), 'utf8')) as ExperimentResult;
  }
});
