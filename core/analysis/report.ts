// The audit report: the one shape that `alloc-lens audit --format json`, the language server's
// `allocLens/audit` request and later tools (A/B for a flag, coverage) share. Paths are relative to
// `root`, lines and columns are 1-based. Version 1 is the contract of issue #4; fields may be added,
// never renamed or removed.

export type AtomicOp = 'rmw' | 'load' | 'store' | 'exchange' | 'cas';
export type Classification = 'telemetry' | 'correctness' | 'unknown';
export type Temperature = 'hot' | 'warm' | 'cold' | 'unknown';
export type EvidenceKind =
  | 'print'
  | 'print-guard'
  | 'condition'
  | 'cas'
  | 'exchange'
  | 'return'
  | 'index'
  | 'call'
  | 'assign'
  | 'arith'
  | 'address'
  /** A read in test or benchmark code (allocLens.analysis.ignoreReadsIn): listed, not counted. */
  | 'test'
  | 'unknown';

export interface SourceRef {
  file: string;
  line: number;
  column?: number;
}

export interface Evidence extends SourceRef {
  kind: EvidenceKind;
  /** The function the read sits in, if any. */
  function?: string | null;
  /** The read expression or a short excerpt of its context. */
  text?: string;
}

export interface AtomicReport extends SourceRef {
  column: number;
  endLine: number;
  endColumn: number;
  function: string | null;
  op: AtomicOp;
  /** The builtin or operator used: `atomic_fetch_add_explicit`, `__sync_fetch_and_add`, `++`. */
  callee: string;
  /** `memory_order_relaxed`, `__ATOMIC_SEQ_CST`, ... ; `seq_cst` for operators on _Atomic objects. */
  order: string | null;
  target: string;
  base: string;
  /** The field path after the base, `alloc_calls` for `g_pool_stats[ci].alloc_calls`. */
  field: string | null;
  /** The counter family the compile-out quick fix wraps as one: the base global (or struct type). */
  family: string;
  classification: Classification;
  /** One sentence: why the classification came out as it did. */
  reason: string;
  evidence: Evidence[];
  temperature: Temperature;
  temperatureReason: string;
  /** The innermost `#if`/`#ifdef` macro the site already sits under, or null. */
  guard: string | null;
  /** ENV gates that decide whether the enclosing function runs. */
  gates: string[];
}

export type GateDefault = 'on' | 'off' | 'value' | 'unknown';

export interface EnvGateReport extends SourceRef {
  name: string;
  function: string | null;
  default: GateDefault;
  /** The value when the variable is unset: "0", "1", "16", or null when unknown. */
  defaultValue: string | null;
  cached: boolean;
  /** Where the parsed value is kept (`g_quill_ring_enabled`), if it is. */
  cachedIn: string | null;
  /** Values set by profile presets: PROFILE → value. */
  profiles: Record<string, string>;
  /** Functions whose execution the gate decides, and atomics inside them (as file:line). */
  gatedFunctions: string[];
  gatedAtomics: SourceRef[];
  /** Every read of the variable: its getenv calls and the calls of getenv wrappers naming it. */
  reads?: { file: string; line: number; function: string | null }[];
  /** The preset calls behind `profiles`, with the variable that selects the profile (`QUILL_MODE`). */
  presets?: { selector: string | null; profile: string; value: string; file: string; line: number }[];
}

export interface FlagReport extends SourceRef {
  name: string;
  /** The `#define` value in the `#ifndef X / #define X v` default, or null when it is never defaulted. */
  default: string | null;
  uses: SourceRef[];
  /** Whether the default build (defaults plus configured defines) compiles code under it in. */
  enabled: boolean | null;
}

export interface InactiveRegion {
  file: string;
  /** 1-based, inclusive: the lines excluded by the preprocessor under the defaults. */
  startLine: number;
  endLine: number;
  /** The directive that excluded the region, e.g. `#if QUILL_DIAG_COMPILED`. */
  condition: string;
}

export interface Finding extends SourceRef {
  rule: 'telemetry-not-compiled-out' | 'release-hygiene' | 'gate-off-by-default' | 'unused-flag' | 'undefaulted-flag';
  message: string;
  severity: 'warning' | 'note';
}

export interface AuditReport {
  version: 1;
  root: string;
  files: number;
  atomics: AtomicReport[];
  envGates: EnvGateReport[];
  flags: FlagReport[];
  inactiveRegions: InactiveRegion[];
  findings: Finding[];
  /** Files the analysis skipped or could only partly parse, with the reason. */
  skipped: { file: string; reason: string }[];
}
