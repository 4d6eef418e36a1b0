import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import type { AuditReport } from '../../core/analysis/report';
import { ensureCodeServer, startCodeServer, type RunningCodeServer } from '../support/codeServer';
import { ROOT } from '../support/paths';
import { waitFor } from '../support/wait';
import { auditFolder, copyOfAllocator, openFile, openWorkbench } from '../support/workbench';

// The editor features of issue #5 in code-server, on a copy of allocator/ (the profile picker and
// the opacity test write .vscode/settings.json). The dimming tests go through the server's
// `allocLens/inactiveRegions` notification and the client's decorations.
const VSIX = path.join(ROOT, 'out', 'alloc-lens.vsix');
const SHOTS = process.env.ALLOC_LENS_UPDATE_SCREENSHOTS ? path.join(ROOT, 'media', 'screenshots') : path.join(ROOT, 'out', 'e2e');
const DEFAULT_OPACITY = 0.55;

function folderSettings(folder: string): Record<string, unknown> {
  const file = path.join(folder, '.vscode', 'settings.json');
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return {}; // being written: look again
  }
}

function writeFolderSettings(folder: string, patch: Record<string, unknown>): void {
  mkdirSync(path.join(folder, '.vscode'), { recursive: true });
  writeFileSync(path.join(folder, '.vscode', 'settings.json'), JSON.stringify({ ...folderSettings(folder), ...patch }, null, 2));
}

/** The computed opacity of every token span of the editor line whose text contains `text`. */
async function lineOpacities(page: Page, text: string): Promise<number[]> {
  return page
    .locator('.editor-instance .view-line', { hasText: text })
    .first()
    .evaluate((line) => Array.from(line.querySelectorAll('span > span'), (s) => Number(getComputedStyle(s).opacity)));
}

async function waitForOpacity(page: Page, text: string, expected: number, timeoutMs = 60_000): Promise<void> {
  let last: number[] = [];
  try {
    await waitFor(async () => {
      last = await lineOpacities(page, text).catch(() => []);
      return last.length > 0 && last.every((o) => Math.abs(o - expected) < 0.005);
    }, timeoutMs, 100);
  } catch {
    assert.fail(`the line with "${text}" should be drawn at opacity ${expected}; its spans are at ${JSON.stringify(last)}`);
  }
}

/** Drags the sash between the side bar and the editor, so the tree's descriptions fit in screenshots. */
async function widenSidebar(page: Page, width: number): Promise<void> {
  const sidebar = page.locator('#workbench\\.parts\\.sidebar');
  const box = (await sidebar.boundingBox())!;
  const x = box.x + box.width;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + (width - box.width), y, { steps: 5 });
  await page.mouse.up();
  await waitFor(async () => Math.abs((await sidebar.boundingBox())!.width - width) < 30);
}

describe('end to end: editor features (issue #5) in code-server on a copy of allocator/', function () {
  let server: RunningCodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let folder: string;
  let report: AuditReport;
  /** The Flags & Gates tree, and one of its rows by label (its aria-label starts with it). */
  let tree: Locator;
  const row = (label: string, level?: number) =>
    tree.locator(`.monaco-list-row[aria-label^="${label} "]${level ? `[aria-level="${level}"]` : ''}, .monaco-list-row[aria-label="${label}"]${level ? `[aria-level="${level}"]` : ''}`).first();
  const expand = async (label: string, level?: number) => {
    const r = row(label, level);
    await r.waitFor({ timeout: 30_000 });
    if ((await r.getAttribute('aria-expanded')) !== 'true') await r.locator('.monaco-tl-twistie').click();
    await waitFor(async () => (await r.getAttribute('aria-expanded')) === 'true');
  };
  const cursor = () => page.locator('.statusbar-item[id="status.editor.selection"]');
  /** The tree is virtual: rows below the fold are not in the DOM, so start from a collapsed tree. */
  const collapseAll = async () => {
    await page.locator('#workbench\\.parts\\.sidebar a.action-label[aria-label="Collapse All"]').filter({ visible: true }).first().click();
    await waitFor(async () => (await row('Compile flags', 1).getAttribute('aria-expanded')) === 'false');
  };

  before(async function () {
    assert.ok(existsSync(VSIX), `${VSIX} is missing: run \`npm run package\` first`);
    folder = copyOfAllocator('alloc-lens-editor-e2e-');
    report = auditFolder(folder);
    server = await startCodeServer(ensureCodeServer(), VSIX, folder);
    ({ browser, page } = await openWorkbench(server));
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (folder) rmSync(path.dirname(folder), { recursive: true, force: true });
  });

  describe('the Flags & Gates view', () => {
    it('has its own Alloc Lens activity-bar container, with the profile and three groups from allocator/', async () => {
      await page.locator('.activitybar .action-item a[aria-label^="Alloc Lens"]').click();
      tree = page.locator('#workbench\\.parts\\.sidebar .pane', { has: page.locator('.pane-header[aria-label^="Flags & Gates"]') });
      await row('Compile flags', 1).waitFor({ timeout: 120_000 });
      const out = report.flags.filter((f) => f.enabled === false).length;
      const telemetry = report.atomics.filter((a) => a.classification === 'telemetry').length;
      assert.equal(await row('Profile', 1).getAttribute('aria-label'), 'Profile none (defaults)');
      assert.equal(await row('Compile flags', 1).getAttribute('aria-label'), `Compile flags ${report.flags.length} · ${out} compiled out`);
      assert.match((await row('ENV gates', 1).getAttribute('aria-label')) ?? '', new RegExp(`^ENV gates ${report.envGates.length} · \\d+ off by default$`));
      assert.equal(await row('Atomics', 1).getAttribute('aria-label'), `Atomics ${report.atomics.length} · ${telemetry} telemetry`);

      const stats = report.flags.find((f) => f.name === 'QUILL_CLASS_STATS_COMPILED');
      assert.ok(stats, 'allocator/ defaults QUILL_CLASS_STATS_COMPILED');
      assert.match((await row('QUILL_CLASS_STATS_COMPILED', 2).getAttribute('aria-label')) ?? '', new RegExp(`default 0 · ${stats.uses.length} sites · compiled out`));
      assert.match((await row('QUILL_FRONT_RING_ENABLED', 2).getAttribute('aria-label')) ?? '', /default OFF/);
      assert.match((await row('telemetry', 2).getAttribute('aria-label')) ?? '', new RegExp(`^telemetry ${telemetry}$`));
      assert.match((await row('correctness', 2).getAttribute('aria-label')) ?? '', /^correctness \d+$/);
    });

    it('a click on a flag opens its default, and on one of its sites the file at that use', async () => {
      const stats = report.flags.find((f) => f.name === 'QUILL_CLASS_STATS_COMPILED')!;
      await row('QUILL_CLASS_STATS_COMPILED', 2).locator('.label-name').click();
      await page.locator('.tab.active', { hasText: path.basename(stats.file) }).waitFor({ timeout: 30_000 });
      await cursor().getByText(`Ln ${stats.line}, Col 1`).waitFor();

      await expand('QUILL_CLASS_STATS_COMPILED', 2);
      const use = stats.uses.find((u) => u.file.endsWith('quill_malloc.c'))!;
      const site = row(`${use.file}:${use.line}`, 3);
      assert.match((await site.getAttribute('aria-label')) ?? '', /compiles out line/);
      await site.locator('.label-name').click();
      await page.locator('.tab.active', { hasText: 'quill_malloc.c' }).waitFor({ timeout: 30_000 });
      await cursor().getByText(`Ln ${use.line}, Col ${use.column}`).waitFor();
    });

    it('offers Go to Source and Run A/B on flags, and Compile Out… on telemetry atomics', async () => {
      const menuItems = async (r: Locator) => {
        await r.click({ button: 'right' });
        const menu = page.locator('.monaco-menu-container .monaco-menu').last();
        await menu.waitFor();
        const labels = (await menu.locator('.action-label').allTextContents()).map((t) => t.trim()).filter(Boolean);
        await page.keyboard.press('Escape');
        await menu.waitFor({ state: 'detached' });
        return labels;
      };
      const runFromMenu = async (r: Locator, label: string) => {
        await r.click({ button: 'right' });
        const menu = page.locator('.monaco-menu-container .monaco-menu').last();
        const item = menu.locator('.action-item', { hasText: label });
        // A click that lands while the menu is still laying out is lost (the menu stays open and
        // nothing runs); the menu closes before its action runs, so clicking again is safe.
        for (let attempt = 0; ; attempt++) {
          await item.click();
          try {
            await menu.waitFor({ state: 'detached', timeout: 5_000 });
            return;
          } catch (err) {
            if (attempt === 2) throw err;
          }
        }
      };
      const flagMenu = await menuItems(row('QUILL_FREE_STATS_COMPILED', 2));
      assert.ok(flagMenu.includes('Go to Source') && flagMenu.includes('Run A/B for Flag…'), `flag menu: ${flagMenu.join(', ')}`);
      assert.ok(!flagMenu.includes('Compile Out Telemetry Family…'), `flag menu: ${flagMenu.join(', ')}`);
      // The commands get the tree node as their argument: Go to Source opens the flag's default,
      // Run A/B for Flag skips the flag pick and asks for the values of this flag.
      const free = report.flags.find((f) => f.name === 'QUILL_FREE_STATS_COMPILED')!;
      await runFromMenu(row('QUILL_FREE_STATS_COMPILED', 2), 'Go to Source');
      await page.locator('.tab.active', { hasText: path.basename(free.file) }).waitFor({ timeout: 30_000 });
      await cursor().getByText(`Ln ${free.line}, Col 1`).waitFor();
      await runFromMenu(row('QUILL_FREE_STATS_COMPILED', 2), 'Run A/B for Flag…');
      await page.locator('.quick-input-widget .quick-input-title', { hasText: 'A/B QUILL_FREE_STATS_COMPILED: variant values' }).waitFor({ timeout: 60_000 });
      await page.keyboard.press('Escape');
      await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });

      await collapseAll();
      await expand('Atomics', 1);
      await expand('telemetry', 2);
      await expand('hot', 3);
      const hotTelemetry = tree.locator('.monaco-list-row[aria-level="4"]').first();
      const atomicMenu = await menuItems(hotTelemetry);
      assert.ok(atomicMenu.includes('Compile Out Telemetry Family…') && atomicMenu.includes('Go to Source'), `atomic menu: ${atomicMenu.join(', ')}`);
      assert.ok(!atomicMenu.includes('Run A/B for Flag…'), `atomic menu: ${atomicMenu.join(', ')}`);
    });

    it('Select Profile… lists the code\'s presets, writes allocLens.profile to the folder, and the view follows', async () => {
      // The view's title actions, shown in the container's title bar (the pane header is hidden when it is the only view).
      await page.locator('#workbench\\.parts\\.sidebar a.action-label[aria-label="Select Profile…"]').filter({ visible: true }).first().click();
      const input = page.locator('.quick-input-widget input');
      await input.waitFor();
      const none = page.locator('.quick-input-list .monaco-list-row', { hasText: '(none — defaults)' });
      await none.waitFor({ timeout: 60_000 });
      assert.match((await none.textContent()) ?? '', /active/);
      await input.fill('fast');
      const fast = page.locator('.quick-input-list .monaco-list-row', { hasText: 'QUILL_MODE preset' }).first();
      await fast.waitFor();
      assert.match((await fast.textContent()) ?? '', /^fast/);
      await page.keyboard.press('Enter');

      await waitFor(() => folderSettings(folder)['allocLens.profile'] === 'fast', 30_000);
      const ring = report.envGates.find((g) => g.name === 'QUILL_FRONT_RING_ENABLED')!;
      assert.equal(ring.profiles.fast, '1', 'allocator/\'s fast mode turns the front ring on');
      await waitFor(async () => (await row('Profile', 1).getAttribute('aria-label')) === 'Profile fast', 30_000);
      await collapseAll();
      await expand('ENV gates', 1);
      await waitFor(async () => (await row('QUILL_FRONT_RING_ENABLED', 2).getAttribute('aria-label')) === 'QUILL_FRONT_RING_ENABLED default OFF · fast: ON', 30_000);
      await expand('QUILL_FRONT_RING_ENABLED', 2);
      assert.match((await row('fast = ON', 3).getAttribute('aria-label')) ?? '', /QUILL_MODE=fast · active/);

      await expand('Compile flags', 1);
      await expand('QUILL_CLASS_STATS_COMPILED', 2);
      const use = report.flags.find((f) => f.name === 'QUILL_CLASS_STATS_COMPILED')!.uses.find((u) => u.file.endsWith('quill_malloc.c'))!;
      await row(`${use.file}:${use.line}`, 3).locator('.label-name').click();
      await page.locator('.tab.active', { hasText: 'quill_malloc.c' }).waitFor({ timeout: 30_000 });
      await widenSidebar(page, 560);
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, 'flags-view.png') });
    });
  });

  describe('dimmed code (allocLens/inactiveRegions + decorations)', () => {
    it('draws a compiled-out #if block at allocLens.inactiveRegions.opacity, and leaves the live line next to it alone', async () => {
      const region = report.inactiveRegions.find((r) => r.file === 'src/quill_malloc.c' && r.condition.includes('QUILL_DIAG_COMPILED'));
      assert.ok(region, 'allocator/ compiles out a QUILL_DIAG_COMPILED block in quill_malloc.c');
      await openFile(page, 'quill_malloc.c', region.startLine);
      await page.locator('.editor-instance .view-line', { hasText: 'g_quill_diag_free_kind' }).waitFor();
      await waitForOpacity(page, 'g_quill_diag_free_kind', DEFAULT_OPACITY);
      assert.deepEqual([...new Set(await lineOpacities(page, 'g_quill_diag.bad_free'))], [1], 'the line before the #if runs');
      await widenSidebar(page, 420);
      await page.screenshot({ path: path.join(SHOTS, 'dimming.png') });
    });

    it('follows allocLens.inactiveRegions.opacity and .enable', async () => {
      writeFolderSettings(folder, { 'allocLens.inactiveRegions.opacity': 0.3 });
      await waitForOpacity(page, 'g_quill_diag_free_kind', 0.3);
      writeFolderSettings(folder, { 'allocLens.inactiveRegions.enable': false });
      await waitForOpacity(page, 'g_quill_diag_free_kind', 1);
      writeFolderSettings(folder, { 'allocLens.inactiveRegions.enable': true, 'allocLens.inactiveRegions.opacity': DEFAULT_OPACITY });
      await waitForOpacity(page, 'g_quill_diag_free_kind', DEFAULT_OPACITY);
    });

    it('dims code whose ENV gate is off under the profile more lightly, and says why on hover', async () => {
      // Under "minimal" the front ring is off, so quill_ring.c's ring paths do not run.
      writeFolderSettings(folder, { 'allocLens.profile': 'minimal' });
      const ring = report.atomics.find((a) => a.file === 'src/quill_ring.c' && a.gates.includes('QUILL_FRONT_RING_ENABLED'));
      assert.ok(ring, 'allocator/ has a ring atomic gated by QUILL_FRONT_RING_ENABLED');
      await openFile(page, 'quill_ring.c', ring.line);
      const text = ring.target;
      await page.locator('.editor-instance .view-line', { hasText: text }).first().waitFor();
      // Halfway between the preprocessor's opacity and full (src/editor/inactiveRegions.ts gateOpacity).
      const gate = Math.round((DEFAULT_OPACITY + (1 - DEFAULT_OPACITY) / 2) * 1000) / 1000;
      await waitForOpacity(page, text, gate);
      await page.locator('.editor-instance .view-line', { hasText: text }).first().locator('span > span').nth(1).hover();
      await page.locator('.monaco-hover', { hasText: 'QUILL_FRONT_RING_ENABLED' }).first().waitFor({ timeout: 30_000 });

      writeFolderSettings(folder, { 'allocLens.inactiveRegions.gatedOff': false });
      await waitForOpacity(page, text, 1);
    });
  });

  describe('when the language server is off', () => {
    it('the view says why it is empty, and fills again when the server is back', async () => {
      writeFolderSettings(folder, { 'allocLens.server.enable': false });
      await tree.locator('.welcome-view-content', { hasText: 'language server is off' }).waitFor({ timeout: 60_000 });
      assert.equal(await tree.locator('.monaco-list-row').count(), 0, 'no stale rows next to the welcome text');
      writeFolderSettings(folder, { 'allocLens.server.enable': true });
      await row('Compile flags', 1).waitFor({ timeout: 120_000 });
    });
  });
});
