// Defaults that work on allocator/ out of the box, so "A/B this flag" is one click: build each
// variant with make into its own out dir, run bench_random_mixed_quill for ~0.15 s, read
// `Throughput = N ops/s`.
import type { ExperimentConfig, MetricSpec } from './types';

export type MetricKind = MetricSpec['kind'] | 'throughput';

/** C identifiers only: a flag name ends up inside `-D` and ENV names. */
export const C_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isCIdentifier(name: string): boolean {
  return C_IDENTIFIER.test(name);
}

/** `QUILL_` from `QUILL_CLASS_STATS_COMPILED`: the allocator's macro/ENV prefix (the first word). */
export function flagPrefix(flag: string): string | null {
  const m = /^([A-Za-z][A-Za-z0-9]*_)[A-Za-z0-9_]/.exec(flag);
  return m ? m[1] : null;
}

/** Experiment names become folder and file names. */
export function experimentName(flag: string | undefined, a: string, b: string): string {
  const base = flag ? `${flag}-${a}-vs-${b}` : `ab-${a}-vs-${b}`;
  return base.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120);
}

/** Throughput of the sample benchmarks: `Throughput = 58447894 ops/s`. */
export const THROUGHPUT_PATTERN = '^Throughput = (?<value>\\d+(?:\\.\\d+)?) (?<unit>ops/s)$';

export function defaultMetric(kind: MetricKind): MetricSpec {
  switch (kind) {
    case 'wall':
      return { kind: 'wall', direction: 'lower', label: 'wall time' };
    case 'instructions':
      return { kind: 'instructions', direction: 'lower', label: 'instructions (Ir)' };
    case 'regex':
    case 'throughput':
      return { kind: 'regex', pattern: THROUGHPUT_PATTERN, unit: 'ops/s', direction: 'higher', label: 'throughput' };
  }
}

// ~0.15 s natively on the dev VM (58M ops/s); under callgrind (~50x slower) a smaller workload,
// the one allocator/scripts/bench.py uses for its Ir table.
const WORKLOAD = { cycles: '10000000', ws: '256', seed: '42' };
const CALLGRIND_CYCLES = '200000';

export interface DefaultConfigOptions {
  /** Values of the flag for A and B (default 0 and 1). */
  a?: string;
  b?: string;
  metric?: MetricKind;
  /** The folder holding the Makefile, if not the workspace folder itself (a template). */
  makeDir?: string;
}

/** The default experiment for one flag, 0 vs 1, on a workspace folder shaped like allocator/. */
export function defaultExperimentConfig(folder: string, flag: string, options: DefaultConfigOptions = {}): ExperimentConfig {
  const a = options.a ?? '0';
  const b = options.b ?? '1';
  const metric = defaultMetric(options.metric ?? 'throughput');
  const makeDir = options.makeDir ?? '${folder}';
  const binary = '${out}/bench_random_mixed_quill';
  const cycles = metric.kind === 'instructions' ? CALLGRIND_CYCLES : WORKLOAD.cycles;
  const prefix = flagPrefix(flag);
  return {
    name: experimentName(flag, a, b),
    folder,
    flag,
    variants: [
      { name: 'A', defines: { [flag]: a }, env: {} },
      { name: 'B', defines: { [flag]: b }, env: {} },
    ],
    profiles: [],
    build: { argv: ['make', '-C', makeDir, '-j2', 'OUT=${out}', 'EXTRA_CFLAGS=${cflags}', binary] },
    run: { argv: [binary, cycles, WORKLOAD.ws, WORKLOAD.seed] },
    binaries: [binary],
    flagsFile: '${out}/.flags',
    compilerVersion: ['cc', '--version'],
    metric,
    env: {},
    cleanEnvPrefixes: prefix ? [prefix] : [],
    warmup: 1,
    // callgrind is deterministic: two pairs show it (the runner stops when both sides repeat exactly)
    minPairs: metric.kind === 'instructions' ? 2 : 8,
    maxPairs: metric.kind === 'instructions' ? 5 : 60,
    budgetMs: 120_000,
    buildTimeoutMs: 300_000,
    runTimeoutMs: 60_000,
    marginPct: 0.5,
    seed: 1,
    cvThresholdPct: 3,
    bootstrapResamples: 2000,
    aa: false,
  };
}
