// GO / NO-GO / NEUTRAL / INCONCLUSIVE from Δ% and its CI (issue #6). The rule is stated in terms of
// the improvement (positive = B better), so lower-is-better metrics (time, instructions) mirror it.
import type { Direction, Verdict } from './types';

export interface VerdictInput {
  deltaPct: number;
  ci: [number, number];
  marginPct: number;
  direction: Direction;
  /** The compared variant's name in the reason (default `B`). */
  variant?: string;
}

export interface VerdictOutcome {
  verdict: Verdict;
  improvementPct: number;
  /** The CI of the improvement: [lo, hi] with positive = B better. */
  improvementCi: [number, number];
  reason: string;
}

const fmt = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}%`;

/**
 * GO: the CI lies above 0 and Δ ≥ +margin. NO-GO: the mirror image. NEUTRAL: the whole CI lies
 * inside ±margin. INCONCLUSIVE: anything else.
 */
export function decideVerdict({ deltaPct, ci, marginPct, direction, variant = 'B' }: VerdictInput): VerdictOutcome {
  const sign = direction === 'higher' ? 1 : -1;
  const improvementPct = sign * deltaPct;
  const improvementCi: [number, number] = sign > 0 ? [ci[0], ci[1]] : [-ci[1], -ci[0]];
  const [lo, hi] = improvementCi;
  const m = marginPct;
  const better = direction === 'higher' ? 'higher' : 'lower';
  const measured = `Δ ${fmt(deltaPct)}, 95% CI [${fmt(ci[0])}, ${fmt(ci[1])}] (${better} is better)`;
  if (lo > 0 && improvementPct >= m)
    return { verdict: 'GO', improvementPct, improvementCi, reason: `${variant} is better: ${measured}; the CI is clear of 0 and the gain reaches the ${m}% margin.` };
  if (hi < 0 && improvementPct <= -m)
    return { verdict: 'NO-GO', improvementPct, improvementCi, reason: `${variant} is worse: ${measured}; the CI is clear of 0 and the loss reaches the ${m}% margin.` };
  if (lo >= -m && hi <= m)
    return { verdict: 'NEUTRAL', improvementPct, improvementCi, reason: `No effect worth having: ${measured} lies wholly inside ±${m}%.` };
  return {
    verdict: 'INCONCLUSIVE',
    improvementPct,
    improvementCi,
    reason: `Not settled: ${measured} is neither clear of 0 by the ${m}% margin nor inside ±${m}%; more pairs or less noise are needed.`,
  };
}

/** Improvement (positive = B better) of a raw Δ% for a metric direction. */
export function improvement(deltaPct: number, direction: Direction): number {
  return direction === 'higher' ? deltaPct : -deltaPct;
}
