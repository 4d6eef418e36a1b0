import * as assert from 'node:assert/strict';
import { bootstrapDeltaCi, describe as describeStats, driftPctPer100Runs, mannWhitney, minimumDetectableEffectPct, normalCdf, orderEffectPct, pairedDeltaPct, Rng, tukeyOutliers } from '../../core/ab/stats';

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} is not within ${tol} of ${expected}`);

describe('A/B statistics (core/ab/stats) against published reference values', () => {
  it('Mann-Whitney, exact: R ?wilcox.test example (Hollander & Wolfe 1973, p. 69, permeability constants)', () => {
    // R: wilcox.test(x, y, alternative = "g") prints "W = 35, p-value = 0.1272"; two-sided is twice that.
    const x = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
    const y = [1.15, 0.88, 0.9, 0.74, 1.21];
    const r = mannWhitney(x, y)!;
    assert.equal(r.method, 'exact');
    assert.equal(r.w, 35);
    close(r.p / 2, 0.1272, 0.00005, 'one-sided p');
  });

  it('Mann-Whitney, exact: SciPy mannwhitneyu docs example (Mann & Whitney 1947: males vs females)', () => {
    // SciPy 1.17 docs: U1 = 17.0, exact two-sided p = 0.1111111111111111
    const r = mannWhitney([19, 22, 16, 29, 24], [20, 11, 17, 12])!;
    assert.equal(r.w, 17);
    close(r.p, 0.1111111111111111, 1e-12, 'p');
  });

  it('Mann-Whitney with ties: normal approximation with tie and continuity correction (R wilcox.test(exact=FALSE), SciPy method="asymptotic")', () => {
    // scipy.stats.mannwhitneyu(x, y, method="asymptotic") 1.17.1: statistic 17.5, pvalue 0.08061946394852618
    const r = mannWhitney([1, 2, 2, 3, 4, 5, 5, 6], [2, 3, 3, 5, 6, 7, 8, 8, 9])!;
    assert.equal(r.method, 'normal');
    assert.equal(r.w, 17.5);
    close(r.p, 0.08061946394852618, 1e-7, 'p');
  });

  it('Mann-Whitney uses the normal approximation from 50 values on (as R does)', () => {
    // scipy.stats.mannwhitneyu([i*1.1 for i in range(60)], [i+3 for i in range(55)], method="asymptotic"): 1773.0, 0.49279273218799413
    const r = mannWhitney(
      Array.from({ length: 60 }, (_, i) => i * 1.1),
      Array.from({ length: 55 }, (_, i) => i + 3),
    )!;
    assert.equal(r.method, 'normal');
    assert.equal(r.w, 1773);
    close(r.p, 0.49279273218799413, 1e-7, 'p');
  });

  it('Mann-Whitney: identical samples give p = 1, empty samples give null', () => {
    assert.equal(mannWhitney([5, 5, 5], [5, 5, 5])!.p, 1);
    assert.equal(mannWhitney([], [1]), null);
  });

  it('normal CDF matches the table (Φ(1.959964) = 0.975, Φ(-1) = 0.158655)', () => {
    close(normalCdf(1.959963984540054), 0.975, 1e-7, 'Φ(1.96)');
    close(normalCdf(-1), 0.15865525393145707, 1e-7, 'Φ(-1)');
  });

  it('describes a sample: median, mean ± sample σ, CV, Tukey outliers flagged by run order', () => {
    const s = describeStats([2, 4, 4, 4, 5, 5, 7, 9], [10, 11, 12, 13, 14, 15, 16, 17]);
    assert.equal(s.median, 4.5);
    assert.equal(s.mean, 5);
    close(s.sd, 2.138089935, 1e-9, 'sample sd'); // sqrt(32/7)
    close(s.cvPct, 42.76179870, 1e-6, 'CV');
    assert.deepEqual(tukeyOutliers([10, 11, 12, 11, 10, 12, 11, 40]), [false, false, false, false, false, false, false, true]);
    assert.deepEqual(describeStats([10, 11, 12, 11, 10, 12, 11, 40], [0, 1, 2, 3, 4, 5, 6, 7]).outliers, [7]);
  });

  it('paired Δ% is symmetric in log space and reads +2% for every pair at +2%', () => {
    close(pairedDeltaPct(Array(9).fill(Math.log(1.02))), 2, 1e-9, 'Δ%');
    close(pairedDeltaPct([Math.log(1.02), Math.log(1.02), Math.log(1.02), Math.log(1.02), Math.log(1.02), Math.log(1.02), Math.log(1.02), Math.log(1.02), Math.log(1.02), Math.log(3)]), 2, 1e-9, 'a stray pair is trimmed');
  });

  it('the bootstrap CI is reproducible with its seed, covers the estimate, and widens with noise', () => {
    const rng = new Rng(7);
    const small = Array.from({ length: 20 }, () => Math.log(1.01) + 0.005 * rng.normal());
    const big = small.map((x) => Math.log(1.01) + 4 * (x - Math.log(1.01)));
    const a = bootstrapDeltaCi(small, 42, 2000);
    assert.deepEqual(bootstrapDeltaCi(small, 42, 2000), a);
    assert.ok(a.lo < pairedDeltaPct(small) && pairedDeltaPct(small) < a.hi);
    const b = bootstrapDeltaCi(big, 42, 2000);
    assert.ok(b.hi - b.lo > 3 * (a.hi - a.lo), `${b.hi - b.lo} vs ${a.hi - a.lo}`);
    // the t interval: at n = 20 with σ = 0.5% per pair, half-width ≈ t(0.975, 19)·0.5/√20 = 2.093·0.112 ≈ 0.23%
    close((a.hi - a.lo) / 2, 0.23, 0.08, 'half-width');
  });

  it('drift: a 0.1% rise per run is +10% per 100 runs; order effect compares A-first with B-first pairs', () => {
    const points = Array.from({ length: 20 }, (_, i) => ({ order: i, value: 100 * (1 + 0.001 * i), median: 100 }));
    close(driftPctPer100Runs(points)!, 10, 1e-9, 'drift');
    const pairs = [
      ...Array.from({ length: 4 }, () => ({ logRatio: Math.log(1.03), baselineFirst: true })),
      ...Array.from({ length: 4 }, () => ({ logRatio: Math.log(1.01), baselineFirst: false })),
    ];
    close(orderEffectPct(pairs)!, 2, 1e-9, 'order effect');
    assert.equal(orderEffectPct(pairs.slice(0, 5)), null);
  });

  it('minimum detectable effect is (z.975 + z.80)·SE = 2.8·SE', () => {
    close(minimumDetectableEffectPct(1), 2.8015852, 1e-6, 'MDE');
  });

  it('the seeded generator shuffles reproducibly and uniformly', () => {
    assert.deepEqual(new Rng(3).shuffle([1, 2, 3, 4, 5]), new Rng(3).shuffle([1, 2, 3, 4, 5]));
    const rng = new Rng(11);
    let first = 0;
    for (let i = 0; i < 2000; i++) if (rng.shuffle(['A', 'B'])[0] === 'A') first++;
    assert.ok(first > 900 && first < 1100, `A first ${first} of 2000`);
  });
});
