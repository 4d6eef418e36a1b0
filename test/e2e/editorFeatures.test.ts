import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import type { AtomicReport, AuditReport } from '../../core/analysis/report';
import { ensureCodeServer, startCodeServer, type RunningCodeServer } from '../support/codeServer';
import { ROOT } from '../support/paths';
import { waitFor } from '../support/wait';
import { auditFolder, copyOfAllocator, openFile, openWorkbench, runCommand } from '../support/workbench';

// The language-server half of issue #5 as a user meets it in code-server: inlay hints in the
// editor DOM, a hover with the evidence, and the compile-out quick fix landing in every file of
// the family. On a copy of allocator/: the quick fix edits it.
const VSIX = path.join(ROOT, 'out', 'alloc-lens.vsix');
const SHOTS = process.env.ALLOC_LENS_UPDATE_SCREENSHOTS ? path.join(ROOT, 'media', 'screenshots') : path.join(ROOT, 'out', 'e2e');
const FAMILY = 'g_quill_tcache_stats';
const FLAG = 'QUILL_TCACHE_STATS_COMPILED';

/** The rendered editor line holding `text` (inlay hints are part of its DOM text). */
function viewLine(page: Page, text: string): Locator {
  return page.locator('.editor-instance .view-line', { hasText: text }).first();
}

/** A line's text as shown, hints included (VS Code renders their spaces as no-break spaces). */
async function shown(line: Locator): Promise<string> {
  return ((await line.textContent()) ?? '').replace(/\u00a0/g, ' ');
}

describe('end to end: inlay hints, hovers and the compile-out quick fix (issue #5) in code-server', function () {
  let server: RunningCodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let folder: string;
  let report: AuditReport;
  let site: AtomicReport;

  before(async function () {
    assert.ok(existsSync(VSIX), `${VSIX} is missing: run \`npm run package\` first`);
    folder = copyOfAllocator('alloc-lens-features-e2e-');
    report = auditFolder(folder);
    const found = report.atomics.find((a) => a.family === FAMILY && a.file === 'src/quill_malloc.c' && a.guard === null);
    assert.ok(found, `allocator/ writes ${FAMILY} in src/quill_malloc.c outside any #if`);
    site = found;
    server = await startCodeServer(ensureCodeServer(), VSIX, folder);
    ({ browser, page } = await openWorkbench(server));
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (folder) rmSync(path.dirname(folder), { recursive: true, force: true });
  });

  it('renders inlay hints at an atomic and at a getenv call', async () => {
    assert.equal(site.classification, 'telemetry');
    await openFile(page, site.file, site.line);
    const line = viewLine(page, site.target);
    await line.waitFor();
    const expected = `telemetry · ${site.temperature}`;
    await waitFor(async () => (await shown(line)).includes(expected), 120_000).catch(() => undefined);
    assert.ok((await shown(line)).includes(expected), `the line of ${site.target} should show "${expected}"; it reads: ${await shown(line)}`);

    const ring = report.envGates.find((g) => g.name === 'QUILL_FRONT_RING_ENABLED');
    assert.ok(ring && ring.default === 'off', 'allocator/ reads QUILL_FRONT_RING_ENABLED, default OFF');
    await openFile(page, ring.file, ring.line);
    const getenvLine = viewLine(page, '"QUILL_FRONT_RING_ENABLED"');
    await getenvLine.waitFor();
    await waitFor(async () => (await shown(getenvLine)).includes('default OFF'), 30_000).catch(() => undefined);
    assert.ok((await shown(getenvLine)).includes('default OFF'), `the getenv line should show "default OFF"; it reads: ${await shown(getenvLine)}`);
  });

  it('hovers an atomic: classification, temperature and each read site as a link', async () => {
    await openFile(page, site.file, site.line);
    const token = viewLine(page, site.target).locator('span > span', { hasText: /^atomic_fetch_add_explicit$/ }).first();
    await token.waitFor();
    // The cursor and the command, not the mouse: a mouse hover depends on where the pointer was.
    await token.click();
    await runCommand(page, 'Show or Focus Hover');
    const hover = page.locator('.monaco-hover:visible', { hasText: 'Temperature' }).first();
    await hover.waitFor({ timeout: 30_000 });
    const text = (await hover.textContent()) ?? '';
    assert.match(text, /telemetry/);
    assert.match(text, new RegExp(`Temperature ${site.temperature}`));
    assert.ok(site.evidence.length > 0, `${site.target} has read sites in allocator/`);
    for (const e of site.evidence.slice(0, 3)) {
      assert.ok(text.includes(`${e.file}:${e.line}`), `the hover should link the read at ${e.file}:${e.line}: ${text}`);
    }
    assert.ok((await hover.locator('a', { hasText: `${site.evidence[0].file}:${site.evidence[0].line}` }).count()) > 0, 'read sites are links');
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'hints-hover.png') });
    await page.keyboard.press('Escape');
  });

  it('applies "Compile out" from the light bulb to every write site of the family, in every file, and the header', async () => {
    const sites = report.atomics.filter((a) => a.family === FAMILY);
    const files = [...new Set(sites.map((a) => a.file))].sort();
    assert.ok(files.length > 1, `${FAMILY} is written in several files`);
    await openFile(page, site.file, site.line);
    await viewLine(page, site.target).locator('span > span', { hasText: /^atomic_fetch_add_explicit$/ }).first().click();
    await page.keyboard.press('Control+.');
    const action = page.locator('.action-widget .monaco-list-row', { hasText: `behind \`${FLAG}\`` }).first();
    await action.waitFor({ timeout: 30_000 });
    assert.match((await action.textContent()) ?? '', new RegExp(`Compile out \`${FAMILY}\` behind \`${FLAG}\` \\(${sites.length} sites in ${files.length} files\\)`));
    await action.click();
    await action.waitFor({ state: 'hidden' });
    await runCommand(page, 'File: Save All Files');

    // The same core, from the CLI, on what is now on disk: every site sits under the new flag.
    const after = await waitFor(() => {
      const r = auditFolder(folder);
      const now = r.atomics.filter((a) => a.family === FAMILY);
      // Save All writes the files one by one: wait for the header's default as well.
      const defaulted = r.flags.some((f) => f.name === FLAG && f.default === '0');
      return now.length === sites.length && now.every((a) => a.guard === FLAG) && defaulted ? r : undefined;
    }, 60_000).catch(() => undefined);
    const guards = auditFolder(folder).atomics.filter((a) => a.family === FAMILY).map((a) => `${a.file}:${a.line} ${a.guard}`);
    assert.ok(after, `every ${FAMILY} site should be under #if ${FLAG} on disk, and ${FLAG} defaulted to 0: ${guards.join(', ')}`);
    for (const file of files) {
      const text = readFileSync(path.join(folder, file), 'utf8');
      assert.match(text, new RegExp(`#if ${FLAG}\\n[^#]*${FAMILY}[^#]*#else\\n\\s*\\(void\\)[^\\n]*;\\n#endif`), `${file} holds the seeds' wrapper`);
    }
    const flag = after.flags.find((f) => f.name === FLAG);
    assert.ok(flag && flag.default === '0', `${FLAG} is defaulted to 0 in the build-flags header`);
    assert.match(readFileSync(path.join(folder, flag.file), 'utf8'), new RegExp(`#ifndef ${FLAG}\\n# define ${FLAG} 0\\n#endif`));
    assert.equal(after.findings.filter((f) => f.rule === 'telemetry-not-compiled-out' && f.message.includes(FAMILY)).length, 0, 'no finding left for the family');
  });
});
