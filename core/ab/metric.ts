// Reading one number per run: a regex over stdout (with units), the wall time, or the
// instruction count from callgrind's out file.
import type { MetricSpec, MetricUnit } from './types';

/** Factor to the base unit: ops/s for throughputs, seconds for times. */
export const UNIT_FACTORS: Record<MetricUnit, number> = {
  'ops/s': 1,
  'K ops/s': 1e3,
  'M ops/s': 1e6,
  'G ops/s': 1e9,
  ns: 1e-9,
  us: 1e-6,
  ms: 1e-3,
  s: 1,
  count: 1,
};

const UNIT_ALIASES: Record<string, MetricUnit> = {
  'ops/s': 'ops/s',
  'ops/sec': 'ops/s',
  'k ops/s': 'K ops/s',
  'kops/s': 'K ops/s',
  'm ops/s': 'M ops/s',
  'mops/s': 'M ops/s',
  'g ops/s': 'G ops/s',
  'gops/s': 'G ops/s',
  ns: 'ns',
  us: 'us',
  'µs': 'us',
  ms: 'ms',
  s: 's',
  sec: 's',
  count: 'count',
};

export function parseUnit(text: string): MetricUnit | null {
  return UNIT_ALIASES[text.trim().toLowerCase().replace(/\s+/g, ' ')] ?? null;
}

export function baseUnit(spec: MetricSpec): string {
  if (spec.kind === 'wall') return 's';
  if (spec.kind === 'instructions') return 'Ir';
  const f = spec.unit;
  if (f.endsWith('ops/s')) return 'ops/s';
  if (f === 'count') return '';
  return 's';
}

export function metricLabel(spec: MetricSpec): string {
  return spec.label ?? (spec.kind === 'regex' ? 'metric' : spec.kind === 'wall' ? 'wall time' : 'instructions (Ir)');
}

/** Checks a regex metric's pattern up front: it must compile and capture the number. */
export function checkPattern(pattern: string): string | undefined {
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'm');
  } catch (err) {
    return `the metric regex does not compile: ${(err as Error).message}`;
  }
  const groups = new RegExp(`${re.source}|`).exec('')!.length - 1;
  if (groups < 1) return `the metric regex ${pattern} has no capture group for the number`;
  return undefined;
}

export type MetricRead = { value: number } | { error: string };

/** Exactly one match over stdout; the number is group `value` or group 1, scaled by its unit. */
export function readRegexMetric(stdout: string, spec: Extract<MetricSpec, { kind: 'regex' }>): MetricRead {
  const re = new RegExp(spec.pattern, 'gm');
  const matches = [...stdout.matchAll(re)].filter((m) => m[0].length > 0);
  if (matches.length === 0) return { error: `no line of the output matches the metric regex /${spec.pattern}/` };
  if (matches.length > 1)
    return { error: `the metric regex /${spec.pattern}/ matches ${matches.length} times (${matches.map((m) => JSON.stringify(m[0])).join(', ')}); it must match exactly once` };
  const m = matches[0];
  const raw = m.groups?.value ?? m[1];
  const num = raw === undefined ? NaN : Number(raw.replace(/,/g, ''));
  if (!Number.isFinite(num)) return { error: `the metric regex matched ${JSON.stringify(m[0])} but its number ${JSON.stringify(raw)} is not a number` };
  let unit = spec.unit;
  if (m.groups?.unit !== undefined) {
    const u = parseUnit(m.groups.unit);
    if (!u) return { error: `unknown unit ${JSON.stringify(m.groups.unit)} in ${JSON.stringify(m[0])}` };
    unit = u;
  }
  return { value: num * UNIT_FACTORS[unit] };
}

/** The Ir total from a callgrind out file: its `summary:` line, else `totals:`. */
export function readCallgrindTotal(outFile: string): MetricRead {
  const line = /^summary:\s*(\d+)/m.exec(outFile) ?? /^totals:\s*(\d+)/m.exec(outFile);
  if (!line) return { error: 'the callgrind out file has no summary: or totals: line' };
  return { value: Number(line[1]) };
}

export const DEFAULT_VALGRIND = ['valgrind', '--tool=callgrind'];

export function callgrindArgv(argv: readonly string[], outFile: string, valgrind: readonly string[] = DEFAULT_VALGRIND): string[] {
  return [...valgrind, `--callgrind-out-file=${outFile}`, ...argv];
}
