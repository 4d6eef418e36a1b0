// The statistics of an A/B experiment. Descriptive statistics, quantiles, the rank sum, erf and
// the regression line come from simple-statistics; pure-rand gives the seeded generator. Written
// here because no maintained npm package offers them: the Mann-Whitney U p-value (tie-corrected
// normal approximation with continuity correction, exact distribution when small and tie-free,
// as R's wilcox.test does), the paired bootstrap CI of Δ%, Tukey fences, drift and order effect.
// test/unit/abStats.test.ts checks them against published reference values.
import { xoroshiro128plus, unsafeUniformIntDistribution, type RandomGenerator } from 'pure-rand';
import type * as SimpleStatistics from 'simple-statistics' with { 'resolution-mode': 'import' };
import type { VariantStats } from './types';
// eslint-disable-next-line @typescript-eslint/no-require-imports
import tQuantile = require('@stdlib/stats-base-dists-t-quantile');

// simple-statistics ships ESM types over a CommonJS build: take its types, require its CJS build.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ss: typeof SimpleStatistics = require('simple-statistics');

export const Z_975 = 1.959963984540054;
export const Z_995 = 2.5758293035489004;
/** z for 80% power (one-sided 0.8 quantile). */
export const Z_80 = 0.8416212335729143;

/** A seeded random source (xoroshiro128+), so run orders and bootstrap CIs can be reproduced. */
export class Rng {
  private readonly g: RandomGenerator;
  constructor(seed: number) {
    this.g = xoroshiro128plus(seed | 0);
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return unsafeUniformIntDistribution(0, n - 1, this.g);
  }
  /** Float in (0, 1). */
  float(): number {
    return (unsafeUniformIntDistribution(0, 0x3fffffff, this.g) + 0.5) / 0x40000000;
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    return Math.sqrt(-2 * Math.log(this.float())) * Math.cos(2 * Math.PI * this.float());
  }
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}

/** Standard normal CDF. */
export function normalCdf(z: number): number {
  return 0.5 * (1 + ss.erf(z / Math.SQRT2));
}

/** Tukey's fences (1.5 IQR): which values are outliers. Flagged, never dropped. */
export function tukeyOutliers(values: readonly number[]): boolean[] {
  if (values.length < 4) return values.map(() => false);
  const q1 = ss.quantile([...values], 0.25);
  const q3 = ss.quantile([...values], 0.75);
  const fence = 1.5 * (q3 - q1);
  return values.map((v) => v < q1 - fence || v > q3 + fence);
}

/** Median, mean ± σ (sample), CV and the Tukey outliers (as `orders[i]`) of one variant's samples. */
export function describe(values: readonly number[], orders: readonly number[] = values.map((_, i) => i)): VariantStats {
  const n = values.length;
  if (n === 0) return { n: 0, median: NaN, mean: NaN, sd: NaN, cvPct: NaN, min: NaN, max: NaN, outliers: [] };
  const mean = ss.mean([...values]);
  const sd = n > 1 ? ss.sampleStandardDeviation([...values]) : 0;
  const flags = tukeyOutliers(values);
  return {
    n,
    median: ss.median([...values]),
    mean,
    sd,
    cvPct: mean !== 0 ? (100 * sd) / Math.abs(mean) : NaN,
    min: ss.min([...values]),
    max: ss.max([...values]),
    outliers: orders.filter((_, i) => flags[i]),
  };
}

export interface MannWhitney {
  /** R's W: the rank sum of x minus n1(n1+1)/2 (= U of x). */
  w: number;
  /** Two-sided p-value. */
  p: number;
  method: 'exact' | 'normal';
}

/**
 * Counts of U = 0..m·n over all C(m+n, m) rank arrangements without ties: the coefficients of
 * the Gaussian binomial [m+n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i).
 */
function exactUCounts(m: number, n: number): number[] {
  const size = m * n + 1;
  let poly = new Array<number>(size).fill(0);
  poly[0] = 1;
  for (let i = 1; i <= m; i++) {
    // multiply by (1 - q^(n+i))
    const next = [...poly];
    for (let k = size - 1; k >= n + i; k--) next[k] -= poly[k - n - i];
    // divide by (1 - q^i): running sum with stride i
    for (let k = i; k < size; k++) next[k] += next[k - i];
    poly = next;
  }
  return poly.map((c) => Math.max(0, Math.round(c)));
}

/**
 * Two-sided Mann-Whitney U (Wilcoxon rank-sum) test, matching R's `wilcox.test(x, y)`: the exact
 * distribution when both samples have fewer than 50 values and there are no ties, otherwise the
 * normal approximation with tie correction and continuity correction.
 */
export function mannWhitney(x: readonly number[], y: readonly number[]): MannWhitney | null {
  const m = x.length;
  const n = y.length;
  if (m === 0 || n === 0) return null;
  const w = ss.wilcoxonRankSum([...x], [...y]) - (m * (m + 1)) / 2;
  const all = [...x, ...y].sort((a, b) => a - b);
  let tieTerm = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j] === all[i]) j++;
    const t = j - i;
    tieTerm += t * t * t - t;
    i = j;
  }
  if (m < 50 && n < 50 && tieTerm === 0) {
    const counts = exactUCounts(m, n);
    const total = counts.reduce((a, b) => a + b, 0);
    let le = 0;
    for (let k = 0; k <= Math.floor(w); k++) le += counts[k];
    let ge = 0;
    for (let k = Math.ceil(w); k < counts.length; k++) ge += counts[k];
    return { w, p: Math.min(1, (2 * Math.min(le, ge)) / total), method: 'exact' };
  }
  const N = m + n;
  const sigma = Math.sqrt(((m * n) / 12) * (N + 1 - tieTerm / (N * (N - 1))));
  if (sigma === 0) return { w, p: 1, method: 'normal' };
  const d = w - (m * n) / 2;
  const z = (d - 0.5 * Math.sign(d)) / sigma;
  return { w, p: Math.min(1, 2 * Math.min(normalCdf(z), 1 - normalCdf(z))), method: 'normal' };
}

/** Share trimmed from each end for the Δ% estimator (10%: robust to a stray slow run, ~95% as efficient as the mean). */
export const TRIM = 0.1;

/** Trimmed mean of an ascending-sorted array. */
function trimmedMeanSorted(sorted: ArrayLike<number>, trim = TRIM): number {
  const n = sorted.length;
  const k = Math.floor(n * trim);
  let sum = 0;
  for (let i = k; i < n - k; i++) sum += sorted[i];
  return sum / (n - 2 * k);
}

/**
 * Δ% of B vs A from per-pair log ratios ln(B_i/A_i): (exp(10%-trimmed mean) - 1)·100. Pairing
 * cancels drift; the log makes A→B and B→A symmetric; trimming keeps one stray run from deciding.
 */
export function pairedDeltaPct(logRatios: readonly number[]): number {
  return (Math.exp(trimmedMeanSorted([...logRatios].sort((a, b) => a - b))) - 1) * 100;
}

export interface BootstrapCi {
  lo: number;
  hi: number;
  /** Standard deviation of the bootstrap distribution of Δ% (for the minimum detectable effect). */
  se: number;
}

/**
 * Bootstrap CI of the paired Δ%: the pairs are resampled with replacement `resamples` times
 * (seeded: the same seed gives the same CI); the spread of the resampled estimator is the
 * standard error, and the interval is estimate ± t(n-1)·SE in log space (the bootstrap-SE t
 * interval, Efron & Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 6 and 12). Unlike
 * percentile intervals it does not shrink to the range of the data in small samples, which made
 * early stopping say GO on A/A far too often in the simulations.
 */
export function bootstrapDeltaCi(logRatios: readonly number[], seed: number, resamples: number, level = 0.95): BootstrapCi {
  const n = logRatios.length;
  if (n === 0) return { lo: NaN, hi: NaN, se: NaN };
  const sorted = [...logRatios].sort((a, b) => a - b);
  const est = trimmedMeanSorted(sorted);
  if (n < 2) return { lo: NaN, hi: NaN, se: NaN };
  const rng = new Rng(seed);
  const buf = new Float64Array(n);
  let sum = 0;
  let sumSq = 0;
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) buf[i] = logRatios[rng.int(n)];
    const t = trimmedMeanSorted(buf.sort());
    sum += t;
    sumSq += t * t;
  }
  const mean = sum / resamples;
  const seLog = Math.sqrt(Math.max(0, (sumSq - resamples * mean * mean) / (resamples - 1)));
  const half = tQuantile(1 - (1 - level) / 2, n - 1) * seLog;
  const toPct = (x: number) => (Math.exp(x) - 1) * 100;
  return { lo: toPct(est - half), hi: toPct(est + half), se: seLog * 100 * Math.exp(est) };
}

/**
 * Trend over the run order in percent per 100 runs: each sample is first normalized by its own
 * variant's median (so A and B share one line), then a least-squares slope is fitted.
 */
export function driftPctPer100Runs(points: readonly { order: number; value: number; median: number }[]): number | null {
  if (points.length < 3) return null;
  const xy = points.map((p) => [p.order, (p.value / p.median - 1) * 100]);
  const orders = new Set(points.map((p) => p.order));
  if (orders.size < 2) return null;
  return ss.linearRegression(xy).m * 100;
}

/** Mean Δ% of the pairs where A ran first minus the pairs where B ran first (percentage points). */
export function orderEffectPct(pairs: readonly { logRatio: number; baselineFirst: boolean }[]): number | null {
  const first = pairs.filter((p) => p.baselineFirst).map((p) => p.logRatio);
  const second = pairs.filter((p) => !p.baselineFirst).map((p) => p.logRatio);
  if (first.length < 2 || second.length < 2) return null;
  return (Math.exp(ss.mean(first)) - Math.exp(ss.mean(second))) * 100;
}

/** Smallest |Δ%| that a two-sided 95% test would detect with 80% power at this standard error. */
export function minimumDetectableEffectPct(se: number): number {
  return (Z_975 + Z_80) * se;
}
