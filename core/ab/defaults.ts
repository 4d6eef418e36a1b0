// Defaults that work on allocator/ out of the box, so "A/B this flag" is one click: build each
// variant with make into its own out dir, run bench_random_mixed_quill for ~0.15 s, read
// `Throughput = N ops/s`.
import type { AbSettings } from '../config';
import type { ExperimentConfig, MetricSpec, MetricUnit } from './types';

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
export const DEFAULT_BINARIES = ['${out}/bench_random_mixed_quill'];
export const DEFAULT_BUILD_ARGV = ['make', '-C', '${folder}', '-j2', 'OUT=${out}', 'EXTRA_CFLAGS=${cflags}', '${out}/bench_random_mixed_quill'];
export const DEFAULT_RUN_ARGV = ['${out}/bench_random_mixed_quill', '10000000', '256', '42'];
export const DEFAULT_INSTRUCTIONS_RUN_ARGV = ['${out}/bench_random_mixed_quill', '200000', '256', '42'];

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
  const prefix = flagPrefix(flag);
  const ir = metric.kind === 'instructions';
  return {
    name: experimentName(flag, a, b),
    folder,
    flag,
    variants: [
      { name: 'A', defines: { [flag]: a }, env: {} },
      { name: 'B', defines: { [flag]: b }, env: {} },
    ],
    profiles: [],
    build: { argv: DEFAULT_BUILD_ARGV.map((x) => (x === '${folder}' ? makeDir : x)) },
    run: { argv: [...(ir ? DEFAULT_INSTRUCTIONS_RUN_ARGV : DEFAULT_RUN_ARGV)] },
    binaries: [...DEFAULT_BINARIES],
    flagsFile: '${out}/.flags',
    compilerVersion: ['cc', '--version'],
    metric,
    env: {},
    cleanEnvPrefixes: prefix ? [prefix] : [],
    warmup: 1,
    // callgrind is deterministic: two pairs show it (the runner stops when both sides repeat exactly)
    minPairs: ir ? 2 : 8,
    maxPairs: ir ? 5 : 60,
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

/** The settings-driven variant of defaultExperimentConfig (what the extension's "A/B this flag" uses). */
export function experimentFromSettings(settings: AbSettings, folder: string, flag: string, options: DefaultConfigOptions = {}): ExperimentConfig {
  const kind = options.metric ?? settings.metric;
  const base = defaultExperimentConfig(folder, flag, { ...options, metric: kind });
  const ir = kind === 'instructions';
  const metric: MetricSpec =
    kind === 'regex'
      ? { kind: 'regex', pattern: settings.regex, unit: settings.unit as MetricUnit, direction: settings.direction, label: 'metric' }
      : kind === 'throughput'
        ? { ...defaultMetric('throughput'), pattern: settings.regex, unit: settings.unit as MetricUnit, direction: settings.direction } as MetricSpec
        : defaultMetric(kind);
  const prefixes = settings.cleanEnvPrefixes.length ? [...settings.cleanEnvPrefixes] : base.cleanEnvPrefixes;
  return {
    ...base,
    build: { argv: settings.buildCommand.map((x) => (x === '${folder}' && options.makeDir ? options.makeDir : x)) },
    run: { argv: [...(ir ? settings.instructionsRunCommand : settings.runCommand)] },
    binaries: [...settings.binaries],
    metric,
    cleanEnvPrefixes: prefixes,
    profiles: Object.entries(settings.profiles).map(([name, env]) => ({ name, env: { ...env } })),
    warmup: settings.warmup,
    minPairs: ir ? Math.min(settings.minPairs, base.minPairs) : settings.minPairs,
    maxPairs: ir ? Math.min(settings.maxPairs, base.maxPairs) : settings.maxPairs,
    budgetMs: settings.budgetSeconds * 1000,
    buildTimeoutMs: settings.buildTimeoutSeconds * 1000,
    runTimeoutMs: settings.runTimeoutSeconds * 1000,
    marginPct: settings.marginPct,
    cvThresholdPct: settings.cvThresholdPct,
  };
}
