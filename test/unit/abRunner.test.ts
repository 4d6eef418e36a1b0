import * as assert from 'node:assert/strict';
import { runExperiment } from '../../core/ab/runner';
import { simConfig, simulateMany, simulateOnce, fixedTenRunsMany } from '../../core/ab/simulate';
import type { ExperimentConfig, ExperimentEvent } from '../../core/ab/types';
import { fakeBuild, fakeDeps } from '../support/abFakes';

const throughput = (v: number) => ({ stdout: `Throughput = ${Math.round(v)} ops/s\n` });

/** A config whose variants are built by the fake `build` command. */
function builtConfig(overrides: Partial<ExperimentConfig> = {}): ExperimentConfig {
  return simConfig({
    name: 'x',
    folder: '/ws',
    flag: 'QUILL_CLASS_STATS_COMPILED',
    variants: [
      { name: 'A', defines: { QUILL_CLASS_STATS_COMPILED: '0' }, env: {} },
      { name: 'B', defines: { QUILL_CLASS_STATS_COMPILED: '1' }, env: {} },
    ],
    build: { argv: ['build', '${out}', '${cflags}'] },
    run: { argv: ['${out}/bench', '1000'] },
    binaries: ['${out}/bench'],
    compilerVersion: ['cc', '--version'],
    cleanEnvPrefixes: ['QUILL_'],
    minPairs: 5,
    maxPairs: 12,
    ...overrides,
  });
}

const isB = (argv: string[]) => argv.some((a) => a.includes('/B'));

describe('A/B runner on synthetic samples (core/ab/runner, fake process host)', function () {
  this.timeout(120_000);

  it('finds a +3% effect at σ = 1%: GO, Δ near +3%, CI around it', async () => {
    const r = await simulateOnce({ effectPct: 3, sigmaPct: 1, seed: 3 });
    assert.equal(r.status, 'completed');
    assert.equal(r.verdict, 'GO', r.cells[0].reason);
    assert.ok(Math.abs(r.deltaPct! - 3) < 1, `Δ ${r.deltaPct}`);
    assert.ok(r.ci![0] < 3 && 3 < r.ci![1], `CI ${r.ci}`);
    assert.ok(r.pairs < 20, `stopped early: ${r.pairs} pairs`);
    assert.equal(r.stopReason, 'settled');
    assert.equal(r.samples.a.length, r.pairs);
  });

  it('finds a -3% effect: NO-GO', async () => {
    assert.equal((await simulateOnce({ effectPct: -3, sigmaPct: 1, seed: 4 })).verdict, 'NO-GO');
  });

  it('no effect and little noise: NEUTRAL, stopping before max pairs', async () => {
    const r = await simulateOnce({ effectPct: 0, sigmaPct: 0.3, seed: 5 });
    assert.equal(r.verdict, 'NEUTRAL', r.cells[0].reason);
    assert.ok(r.pairs < 60);
  });

  it('power and false positives over 60 experiments each: +1% at σ = 1% is GO in ≥ 90%, A/A is GO/NO-GO in ≤ 10%', async () => {
    const power = await simulateMany({ effectPct: 1, sigmaPct: 1 }, 60, {}, 100);
    assert.ok(power.verdicts.GO >= 54, JSON.stringify(power));
    assert.ok(power.pairs.median <= 30, `median pairs ${power.pairs.median}`);
    const aa = await simulateMany({ effectPct: 0, sigmaPct: 1 }, 60, {}, 500);
    assert.ok(aa.verdicts.GO + aa.verdicts['NO-GO'] <= 6, JSON.stringify(aa));
  });

  it('drift of 0.1% per run cancels in interleaved pairs, but not in the seeds\' two batches of 10', async () => {
    const ours = await simulateMany({ effectPct: 0, sigmaPct: 0.5, driftPctPerRun: 0.1 }, 20, {}, 900);
    assert.ok(ours.verdicts.GO + ours.verdicts['NO-GO'] <= 2, JSON.stringify(ours));
    const seeds = fixedTenRunsMany({ effectPct: 0, sigmaPct: 0.5, driftPctPerRun: 0.1 }, 20, 900);
    assert.ok(seeds.GO >= 15, `the batch rule mistakes drift for an effect: ${JSON.stringify(seeds)}`);
    const r = await simulateOnce({ effectPct: 0, sigmaPct: 0.3, driftPctPerRun: 0.05, seed: 901 }, { minPairs: 30, maxPairs: 30 });
    assert.ok(r.warnings.some((w) => w.code === 'drift'), JSON.stringify(r.warnings));
  });

  it('a stray slow outlier is flagged, not dropped, and does not flip the verdict', async () => {
    const r = await simulateOnce({ effectPct: 3, sigmaPct: 0.5, outlierRate: 0.05, seed: 12 }, { minPairs: 20, maxPairs: 20 });
    assert.equal(r.verdict, 'GO');
    assert.equal(r.runs.filter((s) => !s.warmup).length, 40);
    assert.ok(r.runs.some((s) => s.outlier), 'some run is flagged');
  });

  it('builds each variant into its own out dir, records compiler, flags and hashes, and cleans the env', async () => {
    const deps = fakeDeps(
      (req) => {
        const built = fakeBuild(req, deps.files);
        if (built) return built;
        return throughput(isB(req.argv) ? 57e6 : 58e6);
      },
      { QUILL_FRONT_RING_ENABLED: '1', QUILL_MODE: 'fast', PATH: '/usr/bin', HOME: '/root' },
    );
    deps.files.set('/ws/.alloc-lens/build/x/A/.flags', Buffer.from('cc -O2 -DQUILL_CLASS_STATS_COMPILED=0'));
    const events: ExperimentEvent[] = [];
    const r = await runExperiment(builtConfig({ flagsFile: '${out}/.flags', env: { COMMON: '1' }, profiles: [{ name: 'fast', env: { QUILL_MODE: 'fast' } }], variants: [
      { name: 'A', defines: { QUILL_CLASS_STATS_COMPILED: '0' }, env: {} },
      { name: 'B', defines: { QUILL_CLASS_STATS_COMPILED: '1' }, env: { QUILL_TCACHE_MAX: '32' } },
    ] }), deps, { onEvent: (e) => events.push(e) });
    assert.equal(r.status, 'completed', r.error?.message);
    assert.deepEqual(r.builds.map((b) => b.outDir), ['/ws/.alloc-lens/build/x/A', '/ws/.alloc-lens/build/x/B']);
    assert.deepEqual(deps.calls.filter((c) => c.argv[0] === 'build').map((c) => c.argv), [
      ['build', '/ws/.alloc-lens/build/x/A', '-DQUILL_CLASS_STATS_COMPILED=0'],
      ['build', '/ws/.alloc-lens/build/x/B', '-DQUILL_CLASS_STATS_COMPILED=1'],
    ]);
    assert.equal(r.builds[0].compiler, 'cc (Debian 12.2.0-14) 12.2.0');
    assert.equal(r.builds[0].flags, 'cc -O2 -DQUILL_CLASS_STATS_COMPILED=0');
    assert.match(r.builds[0].binaries[0].sha256!, /^[0-9a-f]{64}$/);
    assert.notEqual(r.builds[0].binaries[0].sha256, r.builds[1].binaries[0].sha256);
    const runs = deps.calls.filter((c) => c.argv[0].endsWith('/bench'));
    for (const c of runs) {
      assert.equal(c.env.QUILL_FRONT_RING_ENABLED, undefined, 'inherited QUILL_* removed');
      assert.equal(c.env.QUILL_MODE, 'fast', 'profile preset applied after the clean env');
      assert.equal(c.env.PATH, '/usr/bin');
      assert.equal(c.env.COMMON, '1');
      assert.equal(c.env.QUILL_TCACHE_MAX, isB(c.argv) ? '32' : undefined);
    }
    assert.equal(r.verdict, 'NO-GO');
    assert.ok(events.some((e) => e.type === 'buildStarted') && events.some((e) => e.type === 'sample') && events.some((e) => e.type === 'stats'));
    assert.equal(events.at(-1)!.type, 'finished');
    const order = r.runs.filter((s) => !s.warmup).map((s) => s.variant);
    assert.ok(order.length >= 10 && order.length % 2 === 0);
    assert.ok(r.runs.some((s) => !s.warmup && s.position === 0 && s.variant === 'A') && r.runs.some((s) => !s.warmup && s.position === 0 && s.variant === 'B'), 'both orders occur');
    assert.equal(r.machine.cpu, null);
  });

  it('identical binaries: says so and skips the runs; A/A mode runs anyway', async () => {
    const script = (req: { argv: string[] }) => fakeBuild(req as never, deps.files, () => 'same bytes') ?? throughput(58e6);
    const deps = fakeDeps(script);
    const r = await runExperiment(builtConfig(), deps);
    assert.equal(r.identicalBinaries, true);
    assert.equal(r.verdict, 'NEUTRAL');
    assert.equal(r.runs.length, 0);
    assert.ok(r.warnings.some((w) => w.code === 'identical-binaries'));
    const aa = await runExperiment(builtConfig({ aa: true }), deps);
    assert.equal(aa.identicalBinaries, true);
    assert.ok(aa.runs.length > 0);
    assert.equal(aa.verdict, 'NEUTRAL');
  });

  it('a failing build: status failed, the command and its stderr tail, no runs', async () => {
    const deps = fakeDeps((req) => (req.argv[0] === 'build' && isB(req.argv) ? { exitCode: 2, stderrTail: 'quill.c:12: error: expected ;' } : (fakeBuild(req, deps.files) ?? throughput(1))));
    const r = await runExperiment(builtConfig(), deps);
    assert.equal(r.status, 'failed');
    assert.equal(r.error!.phase, 'build');
    assert.equal(r.error!.variant, 'B');
    assert.match(r.error!.message, /exited with status 2/);
    assert.match(r.error!.stderrTail!, /expected ;/);
    assert.deepEqual(r.error!.argv, ['build', '/ws/.alloc-lens/build/x/B', '-DQUILL_CLASS_STATS_COMPILED=1']);
    assert.equal(r.runs.length, 0);
  });

  it('a crash mid-run: status failed with the signal, the samples so far kept', async () => {
    let runs = 0;
    const deps = fakeDeps((req) => fakeBuild(req, deps.files) ?? (++runs === 7 ? { exitCode: null, signal: 'SIGSEGV', stderrTail: 'Segmentation fault' } : throughput(58e6)));
    const r = await runExperiment(builtConfig(), deps);
    assert.equal(r.status, 'failed');
    assert.equal(r.error!.phase, 'run');
    assert.match(r.error!.message, /crashed with SIGSEGV/);
    assert.equal(r.runs.length, 7);
    assert.equal(r.runs[6].value, null);
    assert.equal(r.runs[6].signal, 'SIGSEGV');
    assert.equal(r.pairs, 2);
  });

  it('a timeout, no metric, or a regex that matches twice: clear errors', async () => {
    const cases: [Record<string, unknown>, RegExp, string][] = [
      [{ timedOut: true, exitCode: null, signal: 'SIGKILL' }, /timed out after 1 s/, 'run'],
      [{ stdout: 'random_mixed: done\n' }, /no line of the output matches the metric regex/, 'metric'],
      [{ stdout: 'Throughput = 1 ops/s\nThroughput = 2 ops/s\n' }, /matches 2 times/, 'metric'],
      [{ spawnError: 'bench: ENOENT', exitCode: null }, /could not start/, 'run'],
    ];
    for (const [outcome, message, phase] of cases) {
      const deps = fakeDeps((req) => fakeBuild(req, deps.files) ?? outcome);
      const r = await runExperiment(builtConfig(), deps);
      assert.equal(r.status, 'failed');
      assert.equal(r.error!.phase, phase);
      assert.match(r.error!.message, message);
      assert.equal(r.runs.length, 1, 'the failed warmup run is kept');
    }
  });

  it('cancel mid-run: status cancelled, partial samples kept, no further runs', async () => {
    const controller = new AbortController();
    let runs = 0;
    const deps = fakeDeps((req) => {
      const built = fakeBuild(req, deps.files);
      if (built) return built;
      if (++runs === 9) {
        controller.abort();
        return { cancelled: true, exitCode: null, signal: 'SIGKILL' };
      }
      return throughput(58e6);
    });
    const events: ExperimentEvent[] = [];
    const r = await runExperiment(builtConfig(), deps, { signal: controller.signal, onEvent: (e) => events.push(e) });
    assert.equal(r.status, 'cancelled');
    assert.equal(r.runs.length, 8);
    assert.equal(r.pairs, 3);
    assert.equal(events.at(-1)!.type, 'cancelled');
  });

  it('odd settings fail before anything runs', async () => {
    const deps = fakeDeps(() => throughput(1));
    const r = await runExperiment(builtConfig({ flag: '1BAD-FLAG', minPairs: 9, maxPairs: 3, run: { argv: ['${outdir}/bench'] }, metric: { kind: 'regex', pattern: '(unclosed', unit: 'ops/s', direction: 'higher' } }), deps);
    assert.equal(r.status, 'failed');
    assert.equal(r.error!.phase, 'config');
    for (const m of [/not a C identifier/, /maxPairs \(3\) is below minPairs \(9\)/, /unknown placeholder\(s\) \$\{outdir\}/, /does not compile/]) assert.match(r.error!.message, m);
    assert.equal(deps.calls.length, 0);
  });

  it('instructions: wraps the run in callgrind, reads summary: from the out file, stops after 2 pairs, NO-GO for more Ir', async () => {
    const deps = fakeDeps((req) => {
      const built = fakeBuild(req, deps.files);
      if (built) return built;
      assert.deepEqual(req.argv.slice(0, 2), ['valgrind', '--tool=callgrind']);
      const out = req.argv.find((a) => a.startsWith('--callgrind-out-file='))!.split('=')[1];
      const ir = isB(req.argv) ? 14_867_813 : 14_567_574;
      deps.files.set(out, Buffer.from(`version: 1\ncmd: bench\nevents: Ir\nsummary: ${ir}\ntotals: ${ir}\n`));
      return { stderrTail: '==1== Collected : 1' };
    });
    const r = await runExperiment(builtConfig({ metric: { kind: 'instructions', direction: 'lower' }, minPairs: 2, maxPairs: 5 }), deps);
    assert.equal(r.status, 'completed', r.error?.message);
    assert.equal(r.pairs, 2);
    assert.equal(r.stopReason, 'deterministic');
    assert.equal(r.verdict, 'NO-GO');
    assert.ok(Math.abs(r.deltaPct! - 2.061) < 0.01, `${r.deltaPct}`);
    assert.deepEqual(r.ci, [r.deltaPct, r.deltaPct]);
    assert.equal(r.metric.unit, 'Ir');
    assert.ok(![...deps.files.keys()].some((k) => k.includes('callgrind.')), 'out files removed');
  });

  it('a matrix: 3 variants × 2 profiles gives 4 cells against one baseline, interleaved per profile', async () => {
    const deps = fakeDeps((req) => {
      const built = fakeBuild(req, deps.files);
      if (built) return built;
      const v = req.argv[0].includes('/C/') ? 1.03 : isB(req.argv) ? 0.97 : 1;
      return throughput(58e6 * v * (req.env.QUILL_MODE === 'fast' ? 1.1 : 1) * (1 + 0.001 * Math.sin(deps.calls.length)));
    });
    const r = await runExperiment(builtConfig({
      variants: [
        { name: 'A', defines: { QUILL_CLASS_STATS_COMPILED: '0' }, env: {} },
        { name: 'B', defines: { QUILL_CLASS_STATS_COMPILED: '1' }, env: {} },
        { name: 'C', defines: { QUILL_CLASS_STATS_COMPILED: '2' }, env: {} },
      ],
      profiles: [{ name: 'balanced', env: {} }, { name: 'fast', env: { QUILL_MODE: 'fast' } }],
    }), deps);
    assert.equal(r.status, 'completed', r.error?.message);
    assert.deepEqual(r.cells.map((c) => `${c.variant}/${c.profile}:${c.verdict}`), ['B/balanced:NO-GO', 'C/balanced:GO', 'B/fast:NO-GO', 'C/fast:GO']);
    assert.ok(r.cells.every((c) => c.baseline === 'A' && c.pairs === r.cells[0].pairs));
  });

  it('warns on the Phase 29 anomaly: B compiles telemetry in, yet measures faster', async () => {
    const deps = fakeDeps((req) => fakeBuild(req, deps.files) ?? throughput((isB(req.argv) ? 58.6e6 : 58e6) * (1 + 0.002 * Math.sin(deps.calls.length))));
    const r = await runExperiment(builtConfig(), deps);
    assert.equal(r.verdict, 'GO');
    assert.ok(r.warnings.some((w) => w.code === 'phase29-anomaly'), JSON.stringify(r.warnings));
  });
});
