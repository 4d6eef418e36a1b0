// The one typed settings object. package.json's `contributes.configuration` mirrors this
// table (a unit test keeps them equal); the client and server read settings only through
// `resolveSettings`, which turns odd user values into defaults plus a readable problem.

import { DEFAULT_BINARIES, DEFAULT_BUILD_ARGV, DEFAULT_INSTRUCTIONS_RUN_ARGV, DEFAULT_RUN_ARGV, THROUGHPUT_PATTERN } from './ab/defaults';
import { DEFAULT_ENTRY_POINTS, DEFAULT_IGNORE_READS_IN } from './analysis/options';

export type TraceLevel = 'off' | 'messages' | 'verbose';

/** `allocLens.ab.*`: what "A/B this flag" runs (issue #6). The defaults work on allocator/. */
export interface AbSettings {
  buildCommand: string[];
  runCommand: string[];
  instructionsRunCommand: string[];
  binaries: string[];
  metric: 'throughput' | 'wall' | 'instructions' | 'regex';
  regex: string;
  unit: string;
  direction: 'higher' | 'lower';
  marginPct: number;
  minPairs: number;
  maxPairs: number;
  warmup: number;
  budgetSeconds: number;
  buildTimeoutSeconds: number;
  runTimeoutSeconds: number;
  cvThresholdPct: number;
  cleanEnvPrefixes: string[];
  profiles: Record<string, Record<string, string>>;
}

export interface AllocLensSettings {
  server: { enable: boolean };
  trace: { server: TraceLevel };
  index: {
    include: string[];
    exclude: string[];
    maxFiles: number;
    maxFileSizeKB: number;
  };
  ab: AbSettings;
  analysis: {
    entryPoints: string[];
    defines: string[];
    printFunctions: string[];
    ignoreReadsIn: string[];
  };
  /** The ENV profile hints, hovers and gate dimming describe ('' = no profile: the defaults). */
  profile: string;
  inlayHints: { enable: boolean };
  hover: { enable: boolean };
  codeLens: { enable: boolean };
  diagnostics: {
    enable: boolean;
    severity: DiagnosticSeverityName;
    /** Rule id → severity or 'off', overriding `severity` for that rule. */
    rules: Record<string, DiagnosticSeverityName | 'off'>;
  };
  inactiveRegions: {
    enable: boolean;
    /** Opacity of compiled-out code, as clangd's `clangd.inactiveRegions.opacity`. */
    opacity: number;
    /** Also dim the bodies of functions whose ENV gate is off under the active profile. */
    gatedOff: boolean;
  };
  compileOut: {
    /** The build-flags header new `#ifndef FLAG` defaults go to ('' = detect it). */
    flagsHeader: string;
  };
}

export type DiagnosticSeverityName = 'error' | 'warning' | 'information' | 'hint';

/** Finding rules the language server reports as diagnostics (codes), as in core/analysis/report.ts. */
export const DIAGNOSTIC_RULES = [
  'telemetry-not-compiled-out',
  'release-hygiene',
  'gate-off-by-default',
  'unused-flag',
  'undefaulted-flag',
] as const;

interface SettingSpec {
  /** Dotted path below `allocLens.` */
  key: string;
  default: unknown;
  /** Returns an error text, or undefined when the value is acceptable. */
  check(value: unknown): string | undefined;
}

const isStringArray = (v: unknown): string | undefined =>
  Array.isArray(v) && v.every((x) => typeof x === 'string') ? undefined : 'expected an array of strings';

const defineProblem = (defines: string[]): string | undefined => {
  const bad = defines.find((d) => !/^[A-Za-z_][A-Za-z0-9_]*(=.*)?$/.test(d));
  return bad === undefined ? undefined : `"${bad}" is not NAME or NAME=VALUE`;
};

const intInRange =
  (min: number, max: number) =>
  (v: unknown): string | undefined =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? undefined
      : `expected an integer from ${min} to ${max}`;

const oneOf =
  (...allowed: string[]) =>
  (v: unknown): string | undefined =>
    typeof v === 'string' && allowed.includes(v) ? undefined : `expected one of ${allowed.join(', ')}`;

const numberInRange =
  (min: number, max: number) =>
  (v: unknown): string | undefined =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? undefined : `expected a number from ${min} to ${max}`;

const argvArray = (v: unknown): string | undefined =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string') ? undefined : 'expected a non-empty array of strings (an argv, not a shell line)';

const isRegex = (v: unknown): string | undefined => {
  if (typeof v !== 'string' || !v) return 'expected a regular expression';
  try {
    new RegExp(v);
    return undefined;
  } catch (err) {
    return `not a valid regular expression (${(err as Error).message})`;
  }
};

const envPresets = (v: unknown): string | undefined =>
  v !== null &&
  typeof v === 'object' &&
  !Array.isArray(v) &&
  Object.values(v).every((env) => env !== null && typeof env === 'object' && !Array.isArray(env) && Object.values(env).every((x) => typeof x === 'string'))
    ? undefined
    : 'expected an object of profile name → { ENV_NAME: "value" }';

const severityRules = (v: unknown): string | undefined => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'expected an object of rule id → severity';
  for (const [rule, sev] of Object.entries(v)) {
    if (!(DIAGNOSTIC_RULES as readonly string[]).includes(rule)) return `unknown rule "${rule}" (one of ${DIAGNOSTIC_RULES.join(', ')})`;
    if (!['error', 'warning', 'information', 'hint', 'off'].includes(sev as string)) return `"${rule}": expected error, warning, information, hint or off`;
  }
  return undefined;
};

const isBoolean = (v: unknown): string | undefined => (typeof v === 'boolean' ? undefined : 'expected true or false');

export const SETTINGS: readonly SettingSpec[] = [
  { key: 'server.enable', default: true, check: (v) => (typeof v === 'boolean' ? undefined : 'expected true or false') },
  { key: 'trace.server', default: 'off', check: oneOf('off', 'messages', 'verbose') },
  { key: 'index.include', default: ['**/*.c', '**/*.h', '**/*.inc', '**/*.inc.h'], check: isStringArray },
  { key: 'index.exclude', default: ['**/node_modules/**', '**/.git/**', '**/build/**', '**/out/**'], check: isStringArray },
  { key: 'index.maxFiles', default: 5000, check: intInRange(1, 100000) },
  { key: 'index.maxFileSizeKB', default: 2048, check: intInRange(1, 65536) },
  { key: 'ab.buildCommand', default: DEFAULT_BUILD_ARGV, check: argvArray },
  { key: 'ab.runCommand', default: DEFAULT_RUN_ARGV, check: argvArray },
  { key: 'ab.instructionsRunCommand', default: DEFAULT_INSTRUCTIONS_RUN_ARGV, check: argvArray },
  { key: 'ab.binaries', default: DEFAULT_BINARIES, check: isStringArray },
  { key: 'ab.metric', default: 'throughput', check: oneOf('throughput', 'wall', 'instructions', 'regex') },
  { key: 'ab.regex', default: THROUGHPUT_PATTERN, check: isRegex },
  { key: 'ab.unit', default: 'ops/s', check: oneOf('ops/s', 'K ops/s', 'M ops/s', 'G ops/s', 'ns', 'us', 'ms', 's', 'count') },
  { key: 'ab.direction', default: 'higher', check: oneOf('higher', 'lower') },
  { key: 'ab.marginPct', default: 0.5, check: numberInRange(0, 50) },
  { key: 'ab.minPairs', default: 8, check: intInRange(1, 10000) },
  { key: 'ab.maxPairs', default: 60, check: intInRange(1, 10000) },
  { key: 'ab.warmup', default: 1, check: intInRange(0, 100) },
  { key: 'ab.budgetSeconds', default: 120, check: numberInRange(1, 86400) },
  { key: 'ab.buildTimeoutSeconds', default: 300, check: numberInRange(1, 86400) },
  { key: 'ab.runTimeoutSeconds', default: 60, check: numberInRange(1, 86400) },
  { key: 'ab.cvThresholdPct', default: 3, check: numberInRange(0.01, 100) },
  { key: 'ab.cleanEnvPrefixes', default: [], check: isStringArray },
  { key: 'ab.profiles', default: {}, check: envPresets },
  { key: 'analysis.entryPoints', default: [...DEFAULT_ENTRY_POINTS], check: isStringArray },
  { key: 'analysis.defines', default: [], check: (v) => isStringArray(v) ?? defineProblem(v as string[]) },
  { key: 'analysis.printFunctions', default: [], check: isStringArray },
  { key: 'analysis.ignoreReadsIn', default: [...DEFAULT_IGNORE_READS_IN], check: isStringArray },
  { key: 'profile', default: '', check: (v) => (typeof v === 'string' ? undefined : 'expected a profile name, or "" for none') },
  { key: 'inlayHints.enable', default: true, check: isBoolean },
  { key: 'hover.enable', default: true, check: isBoolean },
  { key: 'codeLens.enable', default: true, check: isBoolean },
  { key: 'diagnostics.enable', default: true, check: isBoolean },
  { key: 'diagnostics.severity', default: 'information', check: oneOf('error', 'warning', 'information', 'hint') },
  { key: 'diagnostics.rules', default: {}, check: severityRules },
  { key: 'inactiveRegions.enable', default: true, check: isBoolean },
  { key: 'inactiveRegions.opacity', default: 0.55, check: numberInRange(0, 1) },
  { key: 'inactiveRegions.gatedOff', default: true, check: isBoolean },
  { key: 'compileOut.flagsHeader', default: '', check: (v) => (typeof v === 'string' ? undefined : 'expected a path relative to the workspace folder') },
];

export const SETTINGS_SECTION = 'allocLens';

function getPath(obj: unknown, dotted: string): unknown {
  let cur: unknown = obj;
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let cur = obj;
  for (const part of parts.slice(0, -1)) {
    cur[part] ??= {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = structuredClone(value);
}

export interface ResolvedSettings {
  settings: AllocLensSettings;
  /** One line per rejected value, e.g. `allocLens.index.maxFiles: expected an integer ...` */
  problems: string[];
}

/** Accepts the raw `allocLens` section (nested object, as workspace/configuration returns it). */
export function resolveSettings(raw: unknown): ResolvedSettings {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const spec of SETTINGS) {
    const value = getPath(raw, spec.key);
    if (value === undefined || value === null) {
      setPath(out, spec.key, spec.default);
      continue;
    }
    const error = spec.check(value);
    if (error) {
      problems.push(`${SETTINGS_SECTION}.${spec.key}: ${error}; using the default ${JSON.stringify(spec.default)}`);
      setPath(out, spec.key, spec.default);
    } else {
      setPath(out, spec.key, value);
    }
  }
  return { settings: out as unknown as AllocLensSettings, problems };
}

export function defaultSettings(): AllocLensSettings {
  return resolveSettings(undefined).settings;
}
