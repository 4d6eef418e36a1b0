// Synthetic experiments through the real engine: a fake process host prints `Throughput = N ops/s`
// drawn from a known effect and noise, an in-memory file system and a fake clock stand in for the
// rest. Used by the unit tests (verdict and power) and by `npm run bench:ab-sim`.
import { THROUGHPUT_PATTERN } from './defaults';
import { runExperiment } from './runner';
import { Rng } from './stats';
import type { AbFileSystem, ExperimentConfig, ExperimentDeps, ExperimentResult, ProcessHost, RunOutcome, Verdict } from './types';

export interface SimSpec {
  /** True effect of B in percent (positive = faster). */
  effectPct: number;
  /** Run-to-run noise, σ in percent of the mean. */
  sigmaPct: number;
  /** Linear drift of the machine in percent per run (hits A and B alike). */
  driftPctPerRun?: number;
  /** Probability that a run is a slow outlier (-10%). */
  outlierRate?: number;
  seed: number;
  baseOpsPerSec?: number;
  /** Simulated duration of one run (ms), for the budget. */
  runMs?: number;
}

/** An in-memory AbFileSystem (also the fake of the unit tests). */
export function memoryFs(files = new Map<string, Buffer>()): AbFileSystem & { files: Map<string, Buffer> } {
  return {
    files,
    readFile: async (p) => {
      const f = files.get(p);
      if (!f) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return f;
    },
    writeFile: async (p, data) => {
      files.set(p, Buffer.from(data));
    },
    rename: async (a, b) => {
      const f = files.get(a);
      if (!f) throw Object.assign(new Error(`ENOENT: ${a}`), { code: 'ENOENT' });
      files.set(b, f);
      files.delete(a);
    },
    mkdir: async () => undefined,
    rm: async (p) => {
      for (const k of [...files.keys()]) if (k === p || k.startsWith(`${p}/`)) files.delete(k);
    },
    exists: async (p) => files.has(p),
    mkdtemp: async (prefix) => `/tmp/${prefix}sim`,
  };
}

/** A fake ProcessHost whose benchmark prints a throughput drawn from `spec`; B is the variant with SIM_VARIANT=B. */
export function simulatedDeps(spec: SimSpec): ExperimentDeps {
  const rng = new Rng(spec.seed);
  let now = 1_700_000_000_000;
  let mono = 0;
  let runs = 0;
  const base = spec.baseOpsPerSec ?? 58e6;
  const runMs = spec.runMs ?? 150;
  const host: ProcessHost = {
    run: async (req): Promise<RunOutcome> => {
      const isB = req.env.SIM_VARIANT !== undefined && req.env.SIM_VARIANT !== 'A';
      const drift = 1 + ((spec.driftPctPerRun ?? 0) * runs) / 100;
      const outlier = spec.outlierRate && rng.float() < spec.outlierRate ? 0.9 : 1;
      const value = base * (isB ? 1 + spec.effectPct / 100 : 1) * drift * outlier * (1 + (spec.sigmaPct / 100) * rng.normal());
      runs++;
      now += runMs;
      mono += runMs;
      return { exitCode: 0, signal: null, stdout: `Throughput = ${Math.round(value)} ops/s\nrandom_mixed: simulated\n`, stderrTail: '', durationMs: runMs, timedOut: false, cancelled: false };
    },
  };
  return { host, fs: memoryFs(), clock: { now: () => now, monotonic: () => mono }, env: {} };
}

/** An experiment over the simulated benchmark: ENV-only variants, nothing to build. */
export function simConfig(overrides: Partial<ExperimentConfig> = {}): ExperimentConfig {
  return {
    name: 'sim',
    folder: '/sim',
    variants: [
      { name: 'A', defines: {}, env: { SIM_VARIANT: 'A' } },
      { name: 'B', defines: {}, env: { SIM_VARIANT: 'B' } },
    ],
    profiles: [],
    build: null,
    run: { argv: ['bench'] },
    binaries: [],
    metric: { kind: 'regex', pattern: THROUGHPUT_PATTERN, unit: 'ops/s', direction: 'higher', label: 'throughput' },
    env: {},
    cleanEnvPrefixes: [],
    warmup: 1,
    minPairs: 8,
    maxPairs: 60,
    budgetMs: 3_600_000,
    buildTimeoutMs: 1000,
    runTimeoutMs: 1000,
    marginPct: 0.5,
    seed: 1,
    cvThresholdPct: 3,
    bootstrapResamples: 1000,
    aa: false,
    ...overrides,
  };
}

export async function simulateOnce(spec: SimSpec, overrides: Partial<ExperimentConfig> = {}): Promise<ExperimentResult> {
  return runExperiment(simConfig({ seed: spec.seed, ...overrides }), simulatedDeps(spec));
}

export interface SimSummary {
  experiments: number;
  verdicts: Record<Verdict, number>;
  pairs: { mean: number; median: number; p90: number; max: number };
}

export async function simulateMany(spec: Omit<SimSpec, 'seed'>, experiments: number, overrides: Partial<ExperimentConfig> = {}, firstSeed = 1): Promise<SimSummary> {
  const verdicts: Record<Verdict, number> = { GO: 0, 'NO-GO': 0, NEUTRAL: 0, INCONCLUSIVE: 0 };
  const pairs: number[] = [];
  for (let i = 0; i < experiments; i++) {
    const r = await simulateOnce({ ...spec, seed: firstSeed + i }, overrides);
    verdicts[r.verdict]++;
    pairs.push(r.pairs);
  }
  pairs.sort((a, b) => a - b);
  return {
    experiments,
    verdicts,
    pairs: {
      mean: pairs.reduce((a, b) => a + b, 0) / pairs.length,
      median: pairs[Math.floor(pairs.length / 2)],
      p90: pairs[Math.min(pairs.length - 1, Math.floor(pairs.length * 0.9))],
      max: pairs[pairs.length - 1],
    },
  };
}

/**
 * The seeds' rule: build A, run it 10 times; build B, run it 10 times; compare the means;
 * ≥ +margin is GO, ≤ -margin NO-GO, else NEUTRAL. Runs in two batches, so drift is not cancelled.
 */
export function fixedTenRunsVerdict(spec: SimSpec, runsPerSide = 10, marginPct = 0.5): Verdict {
  const rng = new Rng(spec.seed);
  let run = 0;
  const draw = (isB: boolean) => {
    const drift = 1 + ((spec.driftPctPerRun ?? 0) * run++) / 100;
    const outlier = spec.outlierRate && rng.float() < spec.outlierRate ? 0.9 : 1;
    return (isB ? 1 + spec.effectPct / 100 : 1) * drift * outlier * (1 + (spec.sigmaPct / 100) * rng.normal());
  };
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const a = mean(Array.from({ length: runsPerSide }, () => draw(false)));
  const b = mean(Array.from({ length: runsPerSide }, () => draw(true)));
  const delta = (b / a - 1) * 100;
  return delta >= marginPct ? 'GO' : delta <= -marginPct ? 'NO-GO' : 'NEUTRAL';
}

export function fixedTenRunsMany(spec: Omit<SimSpec, 'seed'>, experiments: number, firstSeed = 1): Record<Verdict, number> {
  const verdicts: Record<Verdict, number> = { GO: 0, 'NO-GO': 0, NEUTRAL: 0, INCONCLUSIVE: 0 };
  for (let i = 0; i < experiments; i++) verdicts[fixedTenRunsVerdict({ ...spec, seed: firstSeed + i })]++;
  return verdicts;
}
