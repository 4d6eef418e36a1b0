// The A/B experiment contract (issue #6): what the engine takes, what it reports while it runs,
// and the result it writes. The CLI, the tasks and the results panel all speak these types.
// Fields may be added, never renamed or removed: the JSON written under .alloc-lens/results/
// must stay readable by later versions (`schema` says which shape it is).

import type { Temperature } from '../analysis/report';

export type Verdict = 'GO' | 'NO-GO' | 'NEUTRAL' | 'INCONCLUSIVE';
export type Direction = 'higher' | 'lower';

/**
 * Units a regex metric may report. Values are normalized before any statistic: throughputs
 * to ops/s, times to seconds. `count` is taken as is.
 */
export type MetricUnit = 'ops/s' | 'K ops/s' | 'M ops/s' | 'G ops/s' | 'ns' | 'us' | 'ms' | 's' | 'count';

/** One side of the comparison: `-D` defines for the build and/or ENV for the runs. */
export interface VariantSpec {
  /** Short name: `A`, `B`, `C`... The first variant (or `baseline`) is what the others are compared with. */
  name: string;
  /** `-DKEY=VALUE` defines; the value may be '' for a bare `-DKEY`. */
  defines: Record<string, string>;
  /** ENV applied to every run of this variant, after the clean env and the profile. */
  env: Record<string, string>;
}

/** ENV presets applied to every variant (seed 004's profile matrix: LEGACY vs C7_SAFE...). */
export interface ProfileSpec {
  name: string;
  env: Record<string, string>;
}

/**
 * A command as an argv array, never a shell string. Placeholders, replaced inside every element:
 *   ${folder}     the workspace folder (absolute)
 *   ${out}        the variant's output dir (absolute; one per variant)
 *   ${cflags}     the variant's defines as one string: `-DK=V -DK2=V2` ('' for none)
 *   ${variant}    the variant's name
 *   ${profile}    the profile's name (`default` when there are none)
 *   ${experiment} the experiment's name
 * An element that is exactly `${defines}` expands to one element per define (`-DK=V`), or to
 * none. Unknown placeholders are a configuration error.
 */
export interface CommandTemplate {
  argv: string[];
  /** Working directory (a template too); default `${folder}`. */
  cwd?: string;
  /** Extra ENV for this command (templates too). */
  env?: Record<string, string>;
}

export type MetricSpec =
  | {
      kind: 'regex';
      /**
       * Searched over the run's stdout with the `m` flag. The number is the named group `value`
       * or else group 1; an optional named group `unit` overrides `unit`. Exactly one match per
       * run: none or two is an error for that run.
       */
      pattern: string;
      unit: MetricUnit;
      direction: Direction;
      /** Shown in tables, e.g. `throughput`. */
      label?: string;
    }
  | { kind: 'wall'; direction: 'lower'; label?: string }
  | {
      /** Instruction count (Ir) under `valgrind --tool=callgrind`: deterministic, lower is better. */
      kind: 'instructions';
      direction: 'lower';
      label?: string;
      /** Default `['valgrind', '--tool=callgrind']`; `--callgrind-out-file=` is added by the runner. */
      valgrind?: string[];
    };

export interface ExperimentConfig {
  /** Names the out dirs and the result file: letters, digits, `.`, `_`, `-`. */
  name: string;
  /** The workspace folder (absolute). Results go to `<folder>/.alloc-lens/results/`. */
  folder: string;
  /** The flag under test, e.g. `QUILL_CLASS_STATS_COMPILED` (history, clean-env prefix). */
  flag?: string;
  /** For the history table: where the flag's sites run. */
  pathTemperature?: Temperature;
  /** For the history table: `Phase 24`, or any label. */
  phase?: string;
  /** At least two. Every variant is compared with the baseline. */
  variants: VariantSpec[];
  /** Name of the baseline variant; default the first. */
  baseline?: string;
  /** ENV presets; empty means one profile named `default` with no ENV. */
  profiles: ProfileSpec[];
  /** null when nothing needs building (ENV-only variants on an existing binary). */
  build: CommandTemplate | null;
  run: CommandTemplate;
  /** Files (templates, usually under `${out}`) hashed after the build to detect identical variants. */
  binaries: string[];
  /** Optional file (template) whose text records the exact compiler flags, e.g. `${out}/.flags`. */
  flagsFile?: string;
  /** How to ask the compiler its version; default `['cc', '--version']`. */
  compilerVersion?: string[];
  metric: MetricSpec;
  /** ENV for every run of every variant (after the clean env, before the profile). */
  env: Record<string, string>;
  /** Inherited ENV whose names start with one of these is removed before each run (`cleanenv`). */
  cleanEnvPrefixes: string[];
  /** Discarded runs per variant and profile before the measured pairs. */
  warmup: number;
  minPairs: number;
  maxPairs: number;
  /** Wall-clock budget for the measured runs (ms); when spent, the experiment stops with what it has. */
  budgetMs: number;
  buildTimeoutMs: number;
  runTimeoutMs: number;
  /** The verdict margin in percent (default 0.5). */
  marginPct: number;
  /** Seeds the run order and the bootstrap, so a result can be reproduced. */
  seed: number;
  /** Warn when a variant's coefficient of variation (percent) exceeds this. */
  cvThresholdPct: number;
  /** Bootstrap resamples for the CI (default 2000). */
  bootstrapResamples: number;
  /** A/A mode: run even when the binaries are identical. */
  aa: boolean;
  /**
   * True when B adds work (compiles telemetry in): B measuring better is then the Phase-29
   * anomaly. Default: derived from the flag (`*_COMPILED`, `*_STATS*`, ...) and B's value > A's.
   */
  bAddsWork?: boolean;
}

/** Which comparison a number belongs to in a matrix: a variant vs the baseline under one profile. */
export interface CellKey {
  variant: string;
  baseline: string;
  profile: string;
}

export interface Sample {
  /** 0-based position in the run order, over the whole experiment (warmups included). */
  order: number;
  variant: string;
  profile: string;
  /** Round of the schedule (one randomized block of every variant per profile); -1 for warmups. */
  round: number;
  /** Position inside its round's block (0 = ran first). */
  position: number;
  warmup: boolean;
  /** The normalized metric value (ops/s, seconds, instructions), or null when the run failed. */
  value: number | null;
  startedAt: string;
  durationMs: number;
  exitCode: number | null;
  signal: string | null;
  /** Last lines of stderr (at most ~4 KiB). */
  stderrTail: string;
  /** Tukey outlier within its variant and profile (flagged, never dropped). */
  outlier?: boolean;
  /** Why the run failed, when it did. */
  error?: string;
}

export interface VariantStats {
  n: number;
  median: number;
  mean: number;
  sd: number;
  cvPct: number;
  min: number;
  max: number;
  /** Orders (Sample.order) of the Tukey outliers. */
  outliers: number[];
}

export type WarningCode =
  | 'high-cv'
  | 'drift'
  | 'order-effect'
  | 'phase29-anomaly'
  | 'metric-disagreement'
  | 'identical-binaries'
  | 'budget-spent'
  | 'outliers'
  | 'no-flag-prefix';

export interface Warning {
  code: WarningCode;
  message: string;
  /** The cell it is about, if any. */
  cell?: CellKey;
}

export interface CellResult extends CellKey {
  verdict: Verdict;
  /** One sentence: why this verdict. */
  reason: string;
  /** Change of the metric, B vs A, in percent: (B/A - 1)·100 from the median per-pair ratio. */
  deltaPct: number | null;
  /** 95% bootstrap CI of deltaPct. */
  ci: [number, number] | null;
  /** deltaPct signed so that positive means B is better (flipped for lower-is-better metrics). */
  improvementPct: number | null;
  /** Mann-Whitney U two-sided p-value (normal approximation with tie correction; exact when small and tie-free). */
  pValue: number | null;
  pairs: number;
  /** For INCONCLUSIVE (and reported always): the smallest |Δ%| these pairs could have detected (80% power). */
  mdePct: number | null;
  a: VariantStats | null;
  b: VariantStats | null;
  /** Linear trend of the normalized samples over the run order, percent per 100 runs. */
  driftPctPer100Runs: number | null;
  /** Mean Δ% when A ran first minus when B ran first (percentage points). */
  orderEffectPct: number | null;
  samples: { a: number[]; b: number[] };
}

export interface BinaryInfo {
  path: string;
  sha256: string | null;
  size: number | null;
}

export interface BuildInfo {
  variant: string;
  outDir: string;
  argv: string[];
  cflags: string;
  /** Text of `flagsFile` when configured and readable. */
  flags: string | null;
  compiler: string | null;
  durationMs: number;
  exitCode: number | null;
  stderrTail: string;
  binaries: BinaryInfo[];
}

export interface MachineInfo {
  cpu: string | null;
  cores: number | null;
  governor: string | null;
  kernel: string | null;
  /** 1, 5 and 15 minute load averages when the experiment started. */
  load: [number, number, number] | null;
  hostname: string | null;
}

export type ExperimentStatus = 'completed' | 'cancelled' | 'failed';

export interface ExperimentError {
  phase: 'config' | 'build' | 'run' | 'metric' | 'write';
  message: string;
  variant?: string;
  argv?: string[];
  exitCode?: number | null;
  stderrTail?: string;
}

/** What `--json` prints and what is written under `.alloc-lens/results/`. */
export interface ExperimentResult {
  schema: 1;
  /** `<name>-<UTC timestamp>`: also the result file's base name. */
  id: string;
  name: string;
  flag: string | null;
  status: ExperimentStatus;
  error: ExperimentError | null;
  // The headline: the first cell (first non-baseline variant vs the baseline, first profile).
  verdict: Verdict;
  deltaPct: number | null;
  ci: [number, number] | null;
  pValue: number | null;
  pairs: number;
  mdePct: number | null;
  samples: { a: number[]; b: number[] };
  identicalBinaries: boolean;
  warnings: Warning[];
  /** Why the measured runs stopped: `settled`, `deterministic`, `max-pairs`, `budget`; null when none ran to the end. */
  stopReason: 'settled' | 'deterministic' | 'max-pairs' | 'budget' | null;
  metric: { kind: MetricSpec['kind']; label: string; unit: string; direction: Direction };
  marginPct: number;
  /** Every variant × profile comparison (one for a plain A/B). */
  cells: CellResult[];
  /** Every run, warmups and failures included, in run order. */
  runs: Sample[];
  builds: BuildInfo[];
  machine: MachineInfo;
  config: ExperimentConfig;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}

export type ExperimentEvent =
  | { type: 'started'; id: string; config: ExperimentConfig; cells: CellKey[] }
  | { type: 'buildStarted'; variant: string; argv: string[] }
  | { type: 'buildFinished'; variant: string; ok: boolean; build: BuildInfo }
  | { type: 'identicalBinaries'; variants: string[] }
  | { type: 'runStarted'; order: number; variant: string; profile: string; warmup: boolean }
  | { type: 'sample'; sample: Sample }
  | { type: 'stats'; cells: CellResult[]; pairs: number; maxPairs: number; elapsedMs: number; budgetMs: number }
  | { type: 'warning'; warning: Warning }
  | { type: 'finished'; result: ExperimentResult }
  | { type: 'cancelled'; result: ExperimentResult }
  | { type: 'failed'; error: ExperimentError; result: ExperimentResult };

export interface ExperimentOptions {
  /** Abort to cancel: the running child's process group is killed and the partial result returned. */
  signal?: AbortSignal;
  onEvent?: (event: ExperimentEvent) => void;
}

// ---- What the engine needs from the outside world (fakes in tests, core/host/abHost.ts for real).

export interface RunRequest {
  argv: string[];
  cwd: string;
  /** The complete environment of the child (nothing else is inherited). */
  env: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface RunOutcome {
  exitCode: number | null;
  /** Signal that ended the child (`SIGSEGV`, `SIGKILL` after a timeout...). */
  signal: string | null;
  stdout: string;
  /** Last ~4 KiB of stderr. */
  stderrTail: string;
  durationMs: number;
  timedOut: boolean;
  cancelled: boolean;
  /** Set when the program could not be started at all (ENOENT...). */
  spawnError?: string;
}

export interface ProcessHost {
  run(req: RunRequest): Promise<RunOutcome>;
}

export interface AbFileSystem {
  readFile(path: string): Promise<Buffer>;
  writeFile(path: string, data: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  rm(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** A fresh empty temporary directory (for callgrind out files). */
  mkdtemp(prefix: string): Promise<string>;
  /** Whether the path exists and is not a regular file (a device like /dev/stdout): written in place, never renamed over. */
  isSpecial?(path: string): Promise<boolean>;
}

export interface Clock {
  /** Milliseconds since the epoch (timestamps). */
  now(): number;
  /** Monotonic milliseconds (durations, budget). */
  monotonic(): number;
}

export interface ExperimentDeps {
  host: ProcessHost;
  fs: AbFileSystem;
  clock: Clock;
  /** The environment the runs inherit before the clean env (usually process.env). */
  env: Record<string, string | undefined>;
  /** Machine facts; the engine records null fields when absent. */
  machine?: () => Promise<MachineInfo>;
}

/** The runner's entry point (core/ab/runner.ts). Always resolves: failures come back as `status`. */
export type RunExperiment = (config: ExperimentConfig, deps: ExperimentDeps, options?: ExperimentOptions) => Promise<ExperimentResult>;
