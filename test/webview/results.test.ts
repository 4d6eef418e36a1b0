import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { defaultExperimentConfig } from '../../core/ab/defaults';
import { compoundedTotals, type HistoryEntry } from '../../core/ab/results';
import type { CellResult, ExperimentConfig, ExperimentResult, Sample, VariantStats, Verdict } from '../../core/ab/types';
import type { AbPageState, HistoryTable, HostToPage, PageToHost } from '../../protocol/ab';
import { PAGES } from '../../src/panels/html';
import { useWebviewPage } from '../support/webviewPage';

// The A/B results page, bundled as the VSIX ships it, in Chromium under the real CSP.

const FLAG = 'QUILL_CLASS_STATS_COMPILED';
const config: ExperimentConfig = defaultExperimentConfig('/w/allocator', FLAG);

function stats(values: number[]): VariantStats {
  const sorted = [...values].sort((x, y) => x - y);
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
  return { n: values.length, median: sorted[Math.floor(sorted.length / 2)], mean, sd, cvPct: (sd / mean) * 100, min: sorted[0], max: sorted.at(-1)!, outliers: [] };
}

/** Interleaved samples: B (compiled in) about 1% slower than A, in ops/s. */
function samples(pairs: number): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < pairs; i++) {
    const wobble = ((i * 7919) % 13) / 13 - 0.5;
    for (const [position, variant] of (i % 2 ? ['B', 'A'] : ['A', 'B']).entries()) {
      const value = variant === 'A' ? 58e6 * (1 + wobble * 0.004) : 57.4e6 * (1 + wobble * 0.004);
      out.push({ order: out.length, variant, profile: 'default', round: i, position, warmup: false, value, startedAt: '2026-11-22T03:00:00.000Z', durationMs: 150, exitCode: 0, signal: null, stderrTail: '' });
    }
  }
  return out;
}

function cell(runs: Sample[], over: Partial<CellResult> = {}): CellResult {
  const a = runs.filter((s) => s.variant === 'A').map((s) => s.value!);
  const b = runs.filter((s) => s.variant === 'B').map((s) => s.value!);
  return {
    variant: 'B',
    baseline: 'A',
    profile: 'default',
    verdict: 'NO-GO',
    reason: 'The whole CI lies below 0 and Δ ≤ −0.5%: compiling the counters in costs throughput.',
    deltaPct: -1.03,
    ci: [-1.41, -0.68],
    improvementPct: -1.03,
    pValue: 0.0004,
    pairs: a.length,
    mdePct: 0.31,
    a: stats(a),
    b: stats(b),
    driftPctPer100Runs: 0.1,
    orderEffectPct: 0.02,
    samples: { a, b },
    ...over,
  };
}

function result(over: Partial<ExperimentResult> = {}): ExperimentResult {
  const runs = samples(12);
  const c = cell(runs);
  return {
    schema: 1,
    id: `${config.name}-20261122T030000Z`,
    name: config.name,
    flag: FLAG,
    status: 'completed',
    error: null,
    verdict: c.verdict,
    deltaPct: c.deltaPct,
    ci: c.ci,
    pValue: c.pValue,
    pairs: c.pairs,
    mdePct: c.mdePct,
    samples: c.samples,
    identicalBinaries: false,
    stopReason: 'max-pairs',
    warnings: [{ code: 'high-cv', message: 'B: CV 3.4% is above the 3% threshold: the machine is noisy.' }],
    metric: { kind: 'regex', label: 'throughput', unit: 'ops/s', direction: 'higher' },
    marginPct: 0.5,
    cells: [c],
    runs,
    builds: [],
    machine: { cpu: 'test cpu', cores: 2, governor: null, kernel: '6.1', load: [0.5, 0.4, 0.3], hostname: 'h' },
    config,
    startedAt: '2026-11-22T03:00:00.000Z',
    finishedAt: '2026-11-22T03:01:00.000Z',
    durationMs: 60_000,
    ...over,
  };
}

function entry(phase: string, flag: string, temperature: 'hot' | 'cold', deltaPct: number, verdict: Verdict, date: string): HistoryEntry {
  return {
    id: phase,
    date,
    phase,
    name: `${flag}-1-vs-0`,
    flag,
    temperature,
    variant: 'B',
    baseline: 'A',
    change: `${flag}=1 → ${flag}=0`,
    profile: 'default',
    metric: 'throughput',
    metricKind: 'regex',
    deltaPct,
    improvementPct: deltaPct,
    ci: [deltaPct - 0.3, deltaPct + 0.3],
    verdict,
    pairs: 30,
    status: 'completed',
  };
}

// The seeds' cumulative table (Phase 24-26).
const entries = [
  entry('Phase 24', 'QUILL_CLASS_STATS_COMPILED', 'hot', 0.93, 'GO', '2026-11-20T10:00:00Z'),
  entry('Phase 25', 'QUILL_FREE_STATS_COMPILED', 'hot', 1.07, 'GO', '2026-11-21T10:00:00Z'),
  entry('Phase 26', 'QUILL_DIAG_COMPILED', 'cold', -0.33, 'NEUTRAL', '2026-11-21T12:00:00Z'),
];
const history: HistoryTable = { entries, totals: compoundedTotals(entries) };

describe('A/B results webview page (Chromium)', () => {
  const view = useWebviewPage<HostToPage, PageToHost>(PAGES.ab);
  let page: Page;
  beforeEach(async () => {
    page = view().page;
    await view().page.waitForFunction(() => (window as unknown as { __sent: unknown[] }).__sent.length > 0);
  });

  const runCount = async () => page.locator('#chart-runs').evaluate((c) => [Number((c as HTMLElement).dataset.a), Number((c as HTMLElement).dataset.b)]);

  it('asks the host for its result once loaded, and says when there is none yet', async () => {
    assert.deepEqual(await view().sent(), [{ type: 'ready' }]);
    await page.getByText('Waiting for results').waitFor();
    await view().post({ type: 'empty', folder: 'allocator' });
    await page.getByText('No A/B experiment has run in allocator yet').waitFor();
  });

  it('renders a result: verdict badge, Δ and CI against the margin, warnings, variants and history', async () => {
    await view().post({ type: 'history', history });
    await view().post({ type: 'result', result: result() });
    const badge = page.locator('header .verdict');
    await badge.waitFor();
    assert.equal(await badge.getAttribute('data-verdict'), 'NO-GO');
    assert.equal(await badge.textContent(), 'NO-GO');
    assert.equal(await page.locator('[data-stat=delta] .value').textContent(), '-1.03%');
    assert.equal(await page.locator('[data-stat=ci] .value').textContent(), '[-1.41%, -0.68%]');
    assert.match((await page.locator('[data-stat=ci] .label').textContent()) ?? '', /margin ±0\.5%/);
    assert.equal(await page.locator('#chart-delta').getAttribute('data-rows'), '1');
    assert.deepEqual(await runCount(), [12, 12]);
    assert.deepEqual(await page.locator('.warnings li').evaluateAll((l) => l.map((x) => x.getAttribute('data-code'))), ['high-cv']);
    const variants = page.locator('#variants vscode-table-row');
    assert.equal(await variants.count(), 2);
    assert.match((await variants.nth(0).textContent()) ?? '', /A: QUILL_CLASS_STATS_COMPILED=0.*5\d\.\d\d M ops\/s/);
    const rows = page.locator('#history vscode-table-row');
    assert.equal(await rows.count(), 4);
    assert.match((await rows.nth(0).textContent()) ?? '', /Phase 24.*QUILL_CLASS_STATS_COMPILED.*hot.*\+0\.93%.*GO/);
    // (1.0093 · 1.0107 − 1) · 100: the two GO phases compound, NEUTRAL keeps nothing.
    assert.match((await rows.nth(3).textContent()) ?? '', /Compounded total.*2 kept change\(s\).*throughput.*\+2\.01%/);
    // The charts drew something: Chart.js sized the canvases to their boxes.
    const drawn = await page.locator('canvas').evaluateAll((cs) => cs.map((c) => (c as HTMLCanvasElement).width > 0 && (c as HTMLCanvasElement).height > 0));
    assert.deepEqual(drawn, [true, true, true]);
  });

  it('streams a running experiment: samples extend the run plot, stats move the verdict, the end shows the result', async () => {
    const r = result();
    await view().post({ type: 'event', event: { type: 'started', id: r.id, config, cells: [{ variant: 'B', baseline: 'A', profile: 'default' }] } });
    await page.locator('header .verdict[data-verdict=RUNNING]').waitFor();
    await page.locator('#cancel').waitFor();
    assert.equal(await page.locator('#export-md').getAttribute('disabled'), '', 'no export while running');
    const warmup: Sample = { ...r.runs[0], order: 0, warmup: true, round: -1 };
    await view().post({ type: 'event', event: { type: 'sample', sample: warmup } });
    for (const s of r.runs.slice(0, 6)) await view().post({ type: 'event', event: { type: 'sample', sample: { ...s, order: s.order + 1 } } });
    await page.waitForFunction(() => document.getElementById('chart-runs')?.dataset.a === '3');
    assert.deepEqual(await runCount(), [3, 3], 'warmups are not plotted');
    const partial = cell(r.runs.slice(0, 6), { verdict: 'INCONCLUSIVE', ci: [-2.1, 0.4], deltaPct: -0.9 });
    await view().post({ type: 'event', event: { type: 'stats', cells: [partial], pairs: 3, maxPairs: 60, elapsedMs: 900, budgetMs: 120_000 } });
    await page.locator('header .verdict[data-verdict=INCONCLUSIVE]').waitFor();
    assert.equal(await page.locator('header .verdict').textContent(), 'INCONCLUSIVE · so far');
    await page.getByText('3 of at most 60 pairs').waitFor();
    for (const s of r.runs.slice(6, 8)) await view().post({ type: 'event', event: { type: 'sample', sample: { ...s, order: s.order + 1 } } });
    await page.waitForFunction(() => document.getElementById('chart-runs')?.dataset.a === '4');
    await view().post({ type: 'event', event: { type: 'finished', result: r } });
    await page.locator('header .verdict[data-verdict=NO-GO]').waitFor();
    assert.deepEqual(await runCount(), [12, 12]);
    assert.equal(await page.locator('#cancel').count(), 0);
    assert.match((await page.locator('#status').textContent()) ?? '', /^completed · 12 pairs \(the pair budget was spent\)/);
  });

  it('posts export, re-run and cancel with the result id', async () => {
    const r = result();
    await view().post({ type: 'result', result: r });
    await page.locator('#export-md').click();
    await page.locator('#export-csv').click();
    await page.locator('#rerun').click();
    assert.deepEqual((await view().sent()).slice(1), [
      { type: 'export', format: 'markdown', resultId: r.id },
      { type: 'export', format: 'csv', resultId: r.id },
      { type: 'rerun' },
    ]);
    await view().post({ type: 'event', event: { type: 'started', id: 'next', config, cells: [] } });
    await page.locator('#cancel').click();
    await page.locator('#export-md').click({ force: true });
    assert.deepEqual((await view().sent()).at(-1), { type: 'cancel' });
  });

  it('shows a cancelled result as such, and a failed build with its command and stderr', async () => {
    await view().post({ type: 'result', result: result({ status: 'cancelled', verdict: 'INCONCLUSIVE' }) });
    assert.equal(await page.locator('header .verdict').textContent(), 'INCONCLUSIVE · cancelled');
    const failed = result({
      status: 'failed',
      verdict: 'INCONCLUSIVE',
      cells: [],
      runs: [],
      error: { phase: 'build', message: 'make exited with 2', variant: 'B', argv: ['make', '-C', '/w/allocator', 'OUT=/w/out/B'], exitCode: 2, stderrTail: 'quill_tiny.c:213: error: expected ;' },
    });
    await view().post({ type: 'result', result: failed });
    const alert = page.getByRole('alert');
    await alert.getByText('build failed for B: make exited with 2').waitFor();
    assert.match((await alert.textContent()) ?? '', /make -C \/w\/allocator OUT=\/w\/out\/B.*quill_tiny\.c:213: error/s);
  });

  it('shows engine text as text, never as markup', async () => {
    await view().post({ type: 'result', result: result({ warnings: [{ code: 'drift', message: '<img src=x onerror="window.__pwned=1">' }] }) });
    await page.getByText('<img src=x onerror="window.__pwned=1">').waitFor();
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  });

  it('redraws from its saved state after a reload and tells the host which result it shows', async () => {
    const r = result();
    await view().post({ type: 'history', history });
    await view().post({ type: 'result', result: r });
    await page.locator('header .verdict[data-verdict=NO-GO]').waitFor();
    const state = await page.evaluate(() => (window as unknown as { __state: AbPageState }).__state);
    assert.equal(state.result?.id, r.id);
    await page.reload();
    await page.locator('header .verdict[data-verdict=NO-GO]').waitFor();
    await page.locator('#history').waitFor();
    await page.waitForFunction(() => (window as unknown as { __sent: unknown[] }).__sent.length > 0);
    assert.deepEqual(await view().sent(), [{ type: 'ready', resultId: r.id }]);
  });
});
