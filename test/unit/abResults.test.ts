import * as assert from 'node:assert/strict';
import { defaultSettings } from '../../core/config';
import { defaultExperimentConfig, experimentFromSettings, flagPrefix, isCIdentifier } from '../../core/ab/defaults';
import { compoundedTotals, crossMetricWarnings, csvReport, historyEntries, historyMarkdown, markdownReport, readHistory, saveResult, writeTextAtomic, type HistoryEntry } from '../../core/ab/results';
import { memoryFs, simulateOnce } from '../../core/ab/simulate';
import type { AbFileSystem } from '../../core/ab/types';

const entry = (flag: string, improvementPct: number, verdict: HistoryEntry['verdict'], metric = 'throughput'): HistoryEntry => ({
  id: `${flag}-${metric}`,
  date: '2025-12-16T00:00:00Z',
  phase: flag,
  name: flag,
  flag,
  temperature: 'hot',
  variant: 'B',
  baseline: 'A',
  change: `${flag}=0 → ${flag}=1`,
  profile: 'default',
  metric,
  metricKind: metric === 'instructions (Ir)' ? 'instructions' : 'regex',
  deltaPct: improvementPct,
  improvementPct,
  ci: [improvementPct - 0.3, improvementPct + 0.3],
  verdict,
  pairs: 20,
  status: 'completed',
});

describe('A/B results (core/ab/results) and defaults', () => {
  it('writes atomically: temp file then rename, nothing left behind', async () => {
    const fs = memoryFs();
    await writeTextAtomic(fs, '/ws/.alloc-lens/results/r.json', '{}\n');
    assert.deepEqual([...fs.files.keys()], ['/ws/.alloc-lens/results/r.json']);
  });

  it('disk full: a clear error naming ENOSPC, the temp file removed, the target untouched', async () => {
    const fs = memoryFs();
    fs.files.set('/ws/r.json', Buffer.from('old'));
    const full: AbFileSystem = { ...fs, writeFile: async () => Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })) };
    await assert.rejects(writeTextAtomic(full, '/ws/r.json', 'new'), /could not write \/ws\/r\.json: no space left on device \(ENOSPC\); the result is kept in memory/);
    assert.deepEqual([...fs.files.keys()], ['/ws/r.json']);
    assert.equal(fs.files.get('/ws/r.json')!.toString(), 'old');
  });

  it('saves the result under .alloc-lens/results/ and appends the history', async () => {
    const r = await simulateOnce({ effectPct: 2, sigmaPct: 0.5, seed: 1 });
    const fs = memoryFs();
    const file = await saveResult(fs, '/ws', r);
    assert.equal(file, `/ws/.alloc-lens/results/${r.id}.json`);
    const back = JSON.parse(fs.files.get(file)!.toString());
    for (const k of ['verdict', 'deltaPct', 'ci', 'pValue', 'pairs', 'samples', 'identicalBinaries', 'warnings']) assert.ok(k in back, k);
    assert.equal(back.samples.a.length, r.pairs);
    assert.equal((await readHistory(fs, '/ws')).length, 1);
    await saveResult(fs, '/ws', r);
    assert.equal((await readHistory(fs, '/ws')).length, 1, 'the same result is not counted twice');
  });

  it("compounds the seeds' cumulative table: Phases 24-27 give +2.76% (the seeds summed +2.74%)", () => {
    // A = compiled out (0), B = compiled in (1): compiling telemetry in lost 0.93%, 1.07%, 0.74% (NO-GO: keep A)
    const h = [entry('P24', -0.93, 'NO-GO'), entry('P25', -1.07, 'NO-GO'), entry('P26', 0.33, 'NEUTRAL'), entry('P27', -0.74, 'NO-GO')];
    const [t] = compoundedTotals(h);
    assert.equal(t.counted, 3);
    assert.ok(Math.abs(t.totalPct - 2.7648) < 0.001, `${t.totalPct}`);
    assert.match(historyMarkdown(h), /\*\*\+2\.76%\*\* compounded/);
  });

  it('warns when instructions and wall time disagree in sign', async () => {
    const r = await simulateOnce({ effectPct: 2, sigmaPct: 0.3, seed: 2 });
    const [cell] = historyEntries(r);
    const ir: HistoryEntry = { ...cell, id: 'ir', metric: 'instructions (Ir)', metricKind: 'instructions', improvementPct: -2.06, deltaPct: 2.06, verdict: 'NO-GO' };
    assert.equal(crossMetricWarnings(r, [ir])[0]?.code, 'metric-disagreement');
    assert.deepEqual(crossMetricWarnings(r, [{ ...ir, improvementPct: 1.5 }]), []);
  });

  it('Markdown report in the PHASE results shape, and CSV of every run', async () => {
    const r = await simulateOnce({ effectPct: -2, sigmaPct: 0.5, seed: 3 });
    const md = markdownReport(r, historyEntries(r));
    for (const h of ['# sim A/B results', '## Setup', '## A/B test results', '## Verdict and reasoning', '## History', '## Raw data']) assert.ok(md.includes(h), h);
    assert.match(md, /\*\*Verdict: NO-GO\*\*/);
    const csv = csvReport(r).trim().split('\n');
    assert.equal(csv[0], 'order,variant,profile,round,position,warmup,value,unit,startedAt,durationMs,exitCode,signal,outlier,error');
    assert.equal(csv.length, r.runs.length + 1);
  });

  it('flag names: C identifiers only; the prefix is the first word', () => {
    assert.ok(isCIdentifier('QUILL_CLASS_STATS_COMPILED'));
    for (const bad of ['1X', 'X-Y', 'X Y', '', 'X;rm']) assert.ok(!isCIdentifier(bad), bad);
    assert.equal(flagPrefix('QUILL_CLASS_STATS_COMPILED'), 'QUILL_');
    assert.equal(flagPrefix('HAKMEM_POOL_HOTBOX_V2_STATS_COMPILED'), 'HAKMEM_');
    assert.equal(flagPrefix('NDEBUG'), null);
  });

  it('the default config for a flag equals the one the default settings give', () => {
    const a = defaultExperimentConfig('/ws', 'QUILL_CLASS_STATS_COMPILED');
    const b = experimentFromSettings(defaultSettings().ab, '/ws', 'QUILL_CLASS_STATS_COMPILED');
    assert.deepEqual(b, a);
    assert.deepEqual(a.variants.map((v) => v.defines), [{ QUILL_CLASS_STATS_COMPILED: '0' }, { QUILL_CLASS_STATS_COMPILED: '1' }]);
    assert.deepEqual(a.cleanEnvPrefixes, ['QUILL_']);
    assert.ok(a.build!.argv.includes('OUT=${out}'));
    const ir = experimentFromSettings(defaultSettings().ab, '/ws', 'QUILL_CLASS_STATS_COMPILED', { metric: 'instructions' });
    assert.equal(ir.metric.kind, 'instructions');
    assert.equal(ir.run.argv[1], '200000');
  });
});
