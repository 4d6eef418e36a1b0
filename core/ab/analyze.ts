// From samples to cells: pairs each variant's run with the baseline's run of the same block,
// then Δ%, CI, p-value, verdict, drift, order effect and the warnings.
import { describe, bootstrapDeltaCi, driftPctPer100Runs, mannWhitney, minimumDetectableEffectPct, orderEffectPct, pairedDeltaPct, tukeyOutliers } from './stats';
import { decideVerdict, improvement } from './verdict';
import type { CellKey, CellResult, Direction, ExperimentConfig, Sample, Verdict, Warning } from './types';

/** Below this many pairs a noisy metric gets no GO/NO-GO/NEUTRAL: a bootstrap of 3 medians proves nothing. */
export const MIN_PAIRS_FOR_VERDICT = 5;

export interface AnalyzeOptions {
  /** CI level: 0.95 for the reported verdict, stricter for interim stopping looks. */
  level: number;
  resamples: number;
}

export function baselineOf(config: Pick<ExperimentConfig, 'variants' | 'baseline'>): string {
  return config.baseline ?? config.variants[0].name;
}

export function profileNames(config: Pick<ExperimentConfig, 'profiles'>): string[] {
  return config.profiles.length ? config.profiles.map((p) => p.name) : ['default'];
}

export function cellKeys(config: Pick<ExperimentConfig, 'variants' | 'baseline' | 'profiles'>): CellKey[] {
  const baseline = baselineOf(config);
  return profileNames(config).flatMap((profile) =>
    config.variants.filter((v) => v.name !== baseline).map((v) => ({ variant: v.name, baseline, profile })),
  );
}

interface Pair {
  a: Sample;
  b: Sample;
  logRatio: number;
  baselineFirst: boolean;
}

function pairsOf(cell: CellKey, samples: readonly Sample[]): Pair[] {
  const byRound = new Map<number, { a?: Sample; b?: Sample }>();
  for (const s of samples) {
    if (s.warmup || s.value === null || s.profile !== cell.profile || !(s.value > 0)) continue;
    const slot = byRound.get(s.round) ?? {};
    if (s.variant === cell.baseline) slot.a = s;
    else if (s.variant === cell.variant) slot.b = s;
    byRound.set(s.round, slot);
  }
  const pairs: Pair[] = [];
  for (const { a, b } of [...byRound.values()]) {
    if (a && b) pairs.push({ a, b, logRatio: Math.log(b.value! / a.value!), baselineFirst: a.position < b.position });
  }
  return pairs.sort((x, y) => x.a.order - y.a.order);
}

const allEqual = (xs: readonly number[]) => xs.every((x) => x === xs[0]);

/**
 * Callgrind's Ir wobbles by a few dozen instructions between runs (environment size, ASLR),
 * 1e-5 of the total: a variant whose values all lie within this relative spread is deterministic.
 */
export const DETERMINISTIC_SPREAD = 1e-4;

const repeats = (xs: readonly number[]) => {
  if (xs.length === 0) return false;
  let lo = xs[0];
  let hi = xs[0];
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return hi - lo <= DETERMINISTIC_SPREAD * Math.abs(hi);
};

/** True when every variant repeated its value exactly in every cell (e.g. callgrind). */
export function isDeterministic(samples: readonly Sample[]): boolean {
  const groups = new Map<string, number[]>();
  for (const s of samples) {
    if (s.warmup || s.value === null) continue;
    const k = `${s.variant}\u0000${s.profile}`;
    groups.set(k, [...(groups.get(k) ?? []), s.value]);
  }
  return groups.size > 0 && [...groups.values()].every((g) => g.length >= 2 && repeats(g));
}

function seedFor(seed: number, index: number): number {
  return (seed * 1_000_003 + index * 7919 + 17) | 0;
}

/** A cell without measurements (nothing measured yet, or identical binaries). */
export function emptyCell(cell: CellKey, verdict: Verdict, reason: string, deltaPct: number | null = null): CellResult {
  return {
    ...cell,
    verdict,
    reason,
    deltaPct,
    ci: deltaPct === null ? null : [deltaPct, deltaPct],
    improvementPct: deltaPct,
    pValue: null,
    pairs: 0,
    mdePct: null,
    a: null,
    b: null,
    driftPctPer100Runs: null,
    orderEffectPct: null,
    samples: { a: [], b: [] },
  };
}

export function analyzeCell(cell: CellKey, index: number, samples: readonly Sample[], config: ExperimentConfig, opts: AnalyzeOptions): CellResult {
  const pairs = pairsOf(cell, samples);
  const direction: Direction = config.metric.direction;
  const aVals = pairs.map((p) => p.a.value!);
  const bVals = pairs.map((p) => p.b.value!);
  if (pairs.length === 0) return emptyCell(cell, 'INCONCLUSIVE', 'No complete pair was measured.');
  const ratios = pairs.map((p) => p.logRatio);
  const deltaPct = pairedDeltaPct(ratios);
  const deterministic = repeats(aVals) && repeats(bVals);
  let ci: [number, number];
  let se: number;
  if (allEqual(ratios)) {
    ci = [deltaPct, deltaPct];
    se = 0;
  } else {
    const boot = bootstrapDeltaCi(ratios, seedFor(config.seed, index), opts.resamples, opts.level);
    ci = [boot.lo, boot.hi];
    se = boot.se;
  }
  const a = describe(aVals, pairs.map((p) => p.a.order));
  const b = describe(bVals, pairs.map((p) => p.b.order));
  const drift = driftPctPer100Runs([
    ...pairs.map((p) => ({ order: p.a.order, value: p.a.value!, median: a.median })),
    ...pairs.map((p) => ({ order: p.b.order, value: p.b.value!, median: b.median })),
  ]);
  const base = {
    ...cell,
    deltaPct,
    ci,
    improvementPct: improvement(deltaPct, direction),
    pValue: mannWhitney(aVals, bVals)?.p ?? null,
    pairs: pairs.length,
    mdePct: minimumDetectableEffectPct(se),
    a,
    b,
    driftPctPer100Runs: drift,
    orderEffectPct: orderEffectPct(pairs),
    samples: { a: aVals, b: bVals },
  };
  const needsTwo = deterministic ? 2 : MIN_PAIRS_FOR_VERDICT;
  if (pairs.length < needsTwo)
    return {
      ...base,
      verdict: 'INCONCLUSIVE',
      reason: `Only ${pairs.length} pair(s): at least ${needsTwo} are needed before any verdict.`,
    };
  const v = decideVerdict({ deltaPct, ci, marginPct: config.marginPct, direction, variant: cell.variant });
  const reason = deterministic ? `${v.reason} The metric repeats on both sides (deterministic).` : v.reason;
  return { ...base, verdict: v.verdict, reason, improvementPct: v.improvementPct };
}

export function analyzeCells(samples: readonly Sample[], config: ExperimentConfig, opts: AnalyzeOptions): CellResult[] {
  return cellKeys(config).map((cell, i) => analyzeCell(cell, i, samples, config, opts));
}

/** Marks Tukey outliers on the samples (per variant and profile), in place. */
export function flagOutliers(samples: Sample[]): void {
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    if (s.warmup || s.value === null) continue;
    const k = `${s.variant}\u0000${s.profile}`;
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  for (const g of groups.values()) {
    const flags = tukeyOutliers(g.map((s) => s.value!));
    g.forEach((s, i) => (s.outlier = flags[i]));
  }
}

/** Flags whose B value compiles work in: telemetry, stats, debug counters. */
const ADDS_WORK = /(STATS|TELEMETRY|COUNTERS?|DEBUG|TRACE|DIAG|LOG|PROFILE|METRICS?)/;

export function bAddsWork(config: ExperimentConfig): boolean {
  if (config.bAddsWork !== undefined) return config.bAddsWork;
  if (!config.flag || !/_COMPILED$/.test(config.flag) || !ADDS_WORK.test(config.flag)) return false;
  const a = Number(config.variants[0]?.defines[config.flag]);
  const b = Number(config.variants[1]?.defines[config.flag]);
  return Number.isFinite(a) && Number.isFinite(b) && b > a;
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}%`;

/** CV, drift, order effect, outliers and the Phase-29 anomaly, per cell. */
export function cellWarnings(cells: readonly CellResult[], config: ExperimentConfig, totalRuns: number): Warning[] {
  const out: Warning[] = [];
  const seenCv = new Set<string>();
  for (const c of cells) {
    const cell: CellKey = { variant: c.variant, baseline: c.baseline, profile: c.profile };
    for (const [name, st] of [
      [c.baseline, c.a],
      [c.variant, c.b],
    ] as const) {
      const key = `${name}/${c.profile}`;
      if (st && st.n >= 3 && st.cvPct > config.cvThresholdPct && !seenCv.has(key)) {
        seenCv.add(key);
        out.push({ code: 'high-cv', cell, message: `${name} (${c.profile}): CV ${st.cvPct.toFixed(2)}% is above ${config.cvThresholdPct}%; the machine is noisy (other load, frequency scaling?)` });
      }
      if (st && st.outliers.length)
        out.push({ code: 'outliers', cell, message: `${name} (${c.profile}): ${st.outliers.length} Tukey outlier(s) at run(s) ${st.outliers.join(', ')} (kept, not dropped)` });
    }
    if (c.driftPctPer100Runs !== null && c.pairs >= 4) {
      const total = (Math.abs(c.driftPctPer100Runs) * totalRuns) / 100;
      if (total > config.marginPct)
        out.push({ code: 'drift', cell, message: `the metric drifted ${pct(c.driftPctPer100Runs)} per 100 runs (${total.toFixed(2)}% over the experiment, more than the ±${config.marginPct}% margin); interleaving cancels it in Δ%, but the machine is not steady` });
    }
    if (c.orderEffectPct !== null && Math.abs(c.orderEffectPct) > config.marginPct)
      out.push({ code: 'order-effect', cell, message: `order effect: Δ% is ${pct(c.orderEffectPct)} points different when ${c.baseline} runs first than when ${c.variant} runs first (warm caches, page cache?)` });
    if (c.improvementPct !== null && bAddsWork(config) && config.metric.kind !== 'instructions' && c.improvementPct >= config.marginPct / 2)
      out.push({
        code: 'phase29-anomaly',
        cell,
        message: `${c.variant} adds work (${config.flag}=${config.variants.find((v) => v.name === c.variant)?.defines[config.flag ?? ''] ?? '?'} compiles it in) yet measured ${pct(c.improvementPct)} better: the Phase 29 anomaly.${c.ci && c.ci[0] <= 0 && c.ci[1] >= 0 ? ' The 95% CI includes 0, so it is most likely noise.' : ''} Check that the code path runs in this benchmark (ENV gates default OFF?) and compare the instruction count.`,
      });
  }
  return out;
}
