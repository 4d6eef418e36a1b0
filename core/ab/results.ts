// Results on disk and on paper: the atomic JSON write under `<folder>/.alloc-lens/results/`, the
// history of the seeds' cumulative table with its compounded total, the Markdown report in the
// shape of the seeds' PHASE results documents, and CSV of every run.
import * as path from 'node:path';
import type { AbFileSystem, CellResult, ExperimentResult, Verdict, Warning } from './types';
import type { Temperature } from '../analysis/report';

export function resultsDir(folder: string): string {
  return path.join(folder, '.alloc-lens', 'results');
}

export class ResultWriteError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly target: string,
  ) {
    super(message);
  }
}

function writeErrorMessage(target: string, err: unknown): ResultWriteError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const why =
    code === 'ENOSPC'
      ? 'no space left on device'
      : code === 'EROFS'
        ? 'read-only file system'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : err instanceof Error
            ? err.message
            : String(err);
  return new ResultWriteError(`could not write ${target}: ${why}${code && !why.includes(code) ? ` (${code})` : ''}; the result is kept in memory`, code, target);
}

/** Writes through a temp file in the same folder plus rename, so readers never see half a file. */
export async function writeTextAtomic(fs: AbFileSystem, target: string, text: string): Promise<void> {
  if (await fs.isSpecial?.(target).catch(() => false)) {
    try {
      await fs.writeFile(target, text);
      return;
    } catch (err) {
      throw writeErrorMessage(target, err);
    }
  }
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${Date.now()}`);
  try {
    await fs.mkdir(path.dirname(target));
    await fs.writeFile(tmp, text);
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp).catch(() => undefined);
    throw writeErrorMessage(target, err);
  }
}

export function resultFile(folder: string, result: Pick<ExperimentResult, 'id'>): string {
  return path.join(resultsDir(folder), `${result.id}.json`);
}

export function resultJson(result: ExperimentResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}

/** Writes `<folder>/.alloc-lens/results/<id>.json` and appends the history; returns the JSON path. */
export async function saveResult(fs: AbFileSystem, folder: string, result: ExperimentResult): Promise<string> {
  const file = resultFile(folder, result);
  await writeTextAtomic(fs, file, resultJson(result));
  await appendHistory(fs, folder, result);
  return file;
}

// ---- history

export interface HistoryEntry {
  id: string;
  date: string;
  phase: string | null;
  name: string;
  flag: string | null;
  temperature: Temperature | null;
  variant: string;
  baseline: string;
  /** `-D` defines of both sides, e.g. `QUILL_X=0 → QUILL_X=1`. */
  change: string;
  profile: string;
  metric: string;
  metricKind: ExperimentResult['metric']['kind'];
  deltaPct: number | null;
  improvementPct: number | null;
  ci: [number, number] | null;
  verdict: Verdict;
  pairs: number;
  status: ExperimentResult['status'];
}

export function historyFile(folder: string): string {
  return path.join(resultsDir(folder), 'history.json');
}

function changeText(result: ExperimentResult, cell: CellResult): string {
  const side = (name: string) => {
    const v = result.config.variants.find((x) => x.name === name);
    if (!v) return name;
    const parts = [...Object.entries(v.defines).map(([k, val]) => `${k}=${val}`), ...Object.entries(v.env).map(([k, val]) => `env ${k}=${val}`)];
    return parts.length ? parts.join(' ') : name;
  };
  return `${side(cell.baseline)} → ${side(cell.variant)}`;
}

export function historyEntries(result: ExperimentResult): HistoryEntry[] {
  return result.cells.map((c) => ({
    id: result.id,
    date: result.startedAt,
    phase: result.config.phase ?? null,
    name: result.name,
    flag: result.flag,
    temperature: result.config.pathTemperature ?? null,
    variant: c.variant,
    baseline: c.baseline,
    change: changeText(result, c),
    profile: c.profile,
    metric: result.metric.label,
    metricKind: result.metric.kind,
    deltaPct: c.deltaPct,
    improvementPct: c.improvementPct,
    ci: c.ci,
    verdict: c.verdict,
    pairs: c.pairs,
    status: result.status,
  }));
}

export async function readHistory(fs: AbFileSystem, folder: string): Promise<HistoryEntry[]> {
  const file = historyFile(folder);
  if (!(await fs.exists(file))) return [];
  try {
    const data = JSON.parse((await fs.readFile(file)).toString('utf8'));
    return Array.isArray(data?.entries) ? (data.entries as HistoryEntry[]) : [];
  } catch {
    return [];
  }
}

export async function appendHistory(fs: AbFileSystem, folder: string, result: ExperimentResult): Promise<HistoryEntry[]> {
  const entries = [...(await readHistory(fs, folder)).filter((e) => e.id !== result.id), ...historyEntries(result)];
  await writeTextAtomic(fs, historyFile(folder), `${JSON.stringify({ schema: 1, entries }, null, 2)}\n`);
  return entries;
}

/**
 * What keeping the verdict's side gained: GO keeps B (its improvement), NO-GO keeps A (minus
 * B's improvement: compiling telemetry back in lost that much), NEUTRAL/INCONCLUSIVE gain nothing.
 */
export function keptGainPct(e: Pick<HistoryEntry, 'verdict' | 'improvementPct'>): number {
  if (e.improvementPct === null) return 0;
  if (e.verdict === 'GO') return e.improvementPct;
  if (e.verdict === 'NO-GO') return -e.improvementPct;
  return 0;
}

/**
 * The seeds' cumulative total, compounded: the latest completed entry per change and metric
 * counts once, and gains multiply: Π(1 + g/100) - 1.
 */
export function compoundedTotals(entries: readonly HistoryEntry[]): { metric: string; totalPct: number; counted: number }[] {
  const latest = new Map<string, HistoryEntry>();
  for (const e of entries) {
    if (e.status !== 'completed') continue;
    const key = `${e.metric}\u0000${e.change}\u0000${e.profile}`;
    const prev = latest.get(key);
    if (!prev || prev.date <= e.date) latest.set(key, e);
  }
  const byMetric = new Map<string, HistoryEntry[]>();
  for (const e of latest.values()) byMetric.set(e.metric, [...(byMetric.get(e.metric) ?? []), e]);
  return [...byMetric.entries()].map(([metric, es]) => ({
    metric,
    totalPct: (es.reduce((acc, e) => acc * (1 + keptGainPct(e) / 100), 1) - 1) * 100,
    counted: es.filter((e) => keptGainPct(e) !== 0).length,
  }));
}

const signed = (x: number | null, digits = 2) => (x === null || !Number.isFinite(x) ? '—' : `${x >= 0 ? '+' : ''}${x.toFixed(digits)}%`);

export function historyMarkdown(entries: readonly HistoryEntry[]): string {
  const lines = ['| Phase / name | Flag | Path | Change | Metric | Δ% | Verdict | Kept gain | Date |', '|---|---|---|---|---|---|---|---|---|'];
  for (const e of entries)
    lines.push(
      `| ${e.phase ?? e.name} | ${e.flag ?? '—'} | ${e.temperature ?? '—'} | ${e.change} | ${e.metric} | ${signed(e.deltaPct)} | ${e.status === 'completed' ? e.verdict : `${e.verdict} (${e.status})`} | ${signed(keptGainPct(e))} | ${e.date.slice(0, 10)} |`,
    );
  for (const t of compoundedTotals(entries)) lines.push(`| **Total (${t.metric})** | | | ${t.counted} kept change(s) | | | | **${signed(t.totalPct)}** compounded | |`);
  return `${lines.join('\n')}\n`;
}

/**
 * The instruction count and the wall-clock metric disagree in sign: the latest completed other-kind
 * result for the same change says the opposite (noise, code layout, or a path that does not run).
 */
export function crossMetricWarnings(result: ExperimentResult, history: readonly HistoryEntry[]): Warning[] {
  const out: Warning[] = [];
  const isIr = result.metric.kind === 'instructions';
  for (const e of historyEntries(result)) {
    if (e.improvementPct === null || result.status !== 'completed') continue;
    const other = [...history]
      .filter((h) => h.id !== result.id && h.status === 'completed' && h.change === e.change && h.profile === e.profile && (h.metricKind === 'instructions') !== isIr && h.improvementPct !== null)
      .sort((x, y) => (x.date < y.date ? 1 : -1))[0];
    if (!other) continue;
    const ir = isIr ? e : other;
    const timing = isIr ? other : e;
    const irMoves = Math.abs(ir.improvementPct!) >= 0.05;
    const timingSure = timing.verdict === 'GO' || timing.verdict === 'NO-GO' || (timing.ci !== null && (timing.ci[0] > 0 || timing.ci[1] < 0));
    if (irMoves && timingSure && Math.sign(ir.improvementPct!) !== Math.sign(timing.improvementPct!))
      out.push({
        code: 'metric-disagreement',
        cell: { variant: e.variant, baseline: e.baseline, profile: e.profile },
        message: `instructions say ${e.variant} is ${ir.improvementPct! > 0 ? 'better' : 'worse'} (${signed(ir.improvementPct)}), ${timing.metric} says ${timing.improvementPct! > 0 ? 'better' : 'worse'} (${signed(timing.improvementPct)}): trust neither alone (layout, frequency, or noise)`,
      });
  }
  return out;
}

// ---- Markdown report and CSV

export function formatValue(x: number | null | undefined, unit: string): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  if (unit === 'ops/s') return x >= 1e6 ? `${(x / 1e6).toFixed(2)} M ops/s` : `${x.toFixed(0)} ops/s`;
  if (unit === 's') return x < 1 ? `${(x * 1000).toFixed(1)} ms` : `${x.toFixed(3)} s`;
  if (unit === 'Ir') return `${Math.round(x).toLocaleString('en-US')} Ir`;
  return `${x}`;
}

const ciText = (ci: [number, number] | null) => (ci ? `[${signed(ci[0])}, ${signed(ci[1])}]` : '—');
const pText = (p: number | null) => (p === null ? '—' : p < 0.0001 ? '<0.0001' : p.toFixed(4));

function defsOf(result: ExperimentResult, name: string): string {
  const v = result.config.variants.find((x) => x.name === name);
  if (!v) return name;
  const parts = [...Object.entries(v.defines).map(([k, val]) => `-D${k}=${val}`), ...Object.entries(v.env).map(([k, val]) => `${k}=${val}`)];
  return parts.length ? `${name} (${parts.join(' ')})` : name;
}

export function cellTableMarkdown(result: ExperimentResult): string {
  const u = result.metric.unit;
  const lines = [`| Cell | ${result.metric.label} A (median) | B (median) | Δ% | 95% CI | p (Mann-Whitney) | pairs | verdict |`, '|---|---|---|---|---|---|---|---|'];
  for (const c of result.cells)
    lines.push(
      `| ${c.variant} vs ${c.baseline} · ${c.profile} | ${formatValue(c.a?.median, u)} | ${formatValue(c.b?.median, u)} | ${signed(c.deltaPct)} | ${ciText(c.ci)} | ${pText(c.pValue)} | ${c.pairs} | **${c.verdict}** |`,
    );
  return `${lines.join('\n')}\n`;
}

export function markdownReport(result: ExperimentResult, history: readonly HistoryEntry[] = []): string {
  const c = result.config;
  const u = result.metric.unit;
  const title = `${c.phase ? `${c.phase}: ` : ''}${result.flag ?? result.name} A/B results`;
  const out: string[] = [`# ${title}`, ''];
  out.push(`**Verdict: ${result.verdict}**${result.status !== 'completed' ? ` (experiment ${result.status})` : ''} · Δ ${signed(result.deltaPct)} · 95% CI ${ciText(result.ci)} · ${result.pairs} pairs · ${result.startedAt}`, '');
  out.push('## Setup', '');
  out.push(`- Flag: ${result.flag ? `\`${result.flag}\`` : '—'}${c.pathTemperature ? ` (${c.pathTemperature} path)` : ''}`);
  for (const v of c.variants) out.push(`- Variant ${defsOf(result, v.name)}${v.name === (c.baseline ?? c.variants[0].name) ? ' — baseline' : ''}`);
  out.push(`- Profiles: ${c.profiles.length ? c.profiles.map((p) => `${p.name} (${Object.entries(p.env).map(([k, v]) => `${k}=${v}`).join(' ') || 'no ENV'})`).join(', ') : 'default'}`);
  out.push(`- Metric: ${result.metric.label} (${result.metric.direction} is better), margin ±${result.marginPct}%`);
  if (c.build) out.push(`- Build: \`${c.build.argv.join(' ')}\` (each variant into its own out dir)`);
  out.push(`- Run: \`${c.run.argv.join(' ')}\`${result.metric.kind === 'instructions' ? ' under `valgrind --tool=callgrind`' : ''}`);
  out.push(`- Clean env: inherited ${c.cleanEnvPrefixes.length ? c.cleanEnvPrefixes.map((p) => `\`${p}*\``).join(', ') : '(nothing)'} removed before each run`);
  out.push(`- Schedule: ${c.warmup} warmup run(s) per variant discarded, randomized interleaved pairs, ${c.minPairs}–${c.maxPairs} pairs, budget ${Math.round(c.budgetMs / 1000)} s, seed ${c.seed}${c.aa ? ', A/A mode' : ''}`);
  const m = result.machine;
  out.push(`- Machine: ${m.cpu ?? 'unknown CPU'}, ${m.cores ?? '?'} cores, governor ${m.governor ?? 'not readable'}, kernel ${m.kernel ?? '?'}, load ${m.load ? m.load.map((x) => x.toFixed(2)).join(' ') : '?'}`);
  const compiler = result.builds.find((b) => b.compiler)?.compiler;
  if (compiler) out.push(`- Compiler: ${compiler}`);
  for (const b of result.builds) for (const bin of b.binaries) out.push(`- ${b.variant}: \`${path.basename(bin.path)}\` sha256 ${bin.sha256 ? bin.sha256.slice(0, 16) : 'missing'}…`);
  if (result.identicalBinaries) out.push('- **The binaries are identical**: the change compiles to the same code.');
  out.push('', '## A/B test results', '');
  out.push(cellTableMarkdown(result));
  for (const cell of result.cells) {
    if (!cell.a || !cell.b) continue;
    const line = (name: string, st: NonNullable<CellResult['a']>) =>
      `- **${defsOf(result, name)}:** ${formatValue(st.median, u)} median, ${formatValue(st.mean, u)} mean (±${formatValue(st.sd, u)}, ${st.cvPct.toFixed(2)}% CV), n=${st.n}`;
    out.push(`### ${cell.variant} vs ${cell.baseline} · ${cell.profile}`, '', line(cell.baseline, cell.a), line(cell.variant, cell.b));
    out.push(`- **Delta:** ${signed(cell.deltaPct)} (${signed(cell.improvementPct)} for ${cell.variant}, positive = better), MDE ${signed(cell.mdePct)}, drift ${cell.driftPctPer100Runs === null ? '—' : `${signed(cell.driftPctPer100Runs)}/100 runs`}, order effect ${signed(cell.orderEffectPct)}`, '');
  }
  out.push('## Verdict and reasoning', '');
  for (const cell of result.cells) out.push(`- **${cell.verdict}** (${cell.variant} vs ${cell.baseline}, ${cell.profile}): ${cell.reason}`);
  if (result.error) out.push(`- The experiment ${result.status}: ${result.error.message}`);
  if (result.warnings.length) {
    out.push('', '### Warnings', '');
    for (const w of result.warnings) out.push(`- ${w.code}: ${w.message}`);
  }
  if (history.length) out.push('', '## History', '', historyMarkdown(history).trimEnd());
  out.push('', '## Raw data', '', '| # | variant | profile | round | value | exit | note |', '|---|---|---|---|---|---|---|');
  for (const s of result.runs)
    out.push(
      `| ${s.order} | ${s.variant} | ${s.profile} | ${s.warmup ? 'warmup' : s.round} | ${formatValue(s.value, u)} | ${s.signal ?? s.exitCode ?? '—'} | ${[s.outlier ? 'outlier' : '', s.error ?? ''].filter(Boolean).join('; ')} |`,
    );
  return `${out.join('\n')}\n`;
}

const csvField = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function csvReport(result: ExperimentResult): string {
  const head = ['order', 'variant', 'profile', 'round', 'position', 'warmup', 'value', 'unit', 'startedAt', 'durationMs', 'exitCode', 'signal', 'outlier', 'error'];
  const rows = result.runs.map((s) =>
    [s.order, s.variant, s.profile, s.round, s.position, s.warmup, s.value, result.metric.unit, s.startedAt, s.durationMs.toFixed(1), s.exitCode, s.signal, s.outlier ?? false, s.error ?? ''].map(csvField).join(','),
  );
  return `${[head.join(','), ...rows].join('\n')}\n`;
}
