// The run order: warmups first (discarded), then rounds. A round holds, for each profile, one
// block with every variant once in a fresh random order, so with two variants the measured runs
// are randomized ABAB pairs: drift hits both sides of a pair alike and cancels in the ratio.
import type { Rng } from './stats';

export interface PlannedRun {
  variant: string;
  profile: string;
  round: number;
  /** Position inside its block (0 = first). */
  position: number;
  warmup: boolean;
}

export function warmupRuns(variants: readonly string[], profiles: readonly string[], warmup: number): PlannedRun[] {
  const out: PlannedRun[] = [];
  for (let w = 0; w < warmup; w++)
    for (const profile of profiles) variants.forEach((variant, position) => out.push({ variant, profile, round: -1, position, warmup: true }));
  return out;
}

export function planRound(round: number, variants: readonly string[], profiles: readonly string[], rng: Rng): PlannedRun[] {
  const out: PlannedRun[] = [];
  for (const profile of rng.shuffle(profiles)) {
    rng.shuffle(variants).forEach((variant, position) => out.push({ variant, profile, round, position, warmup: false }));
  }
  return out;
}

export type StopReason = 'settled' | 'deterministic' | 'max-pairs' | 'budget';

export interface StopState {
  pairs: number;
  minPairs: number;
  maxPairs: number;
  elapsedMs: number;
  budgetMs: number;
  /** Mean duration of one measured round so far (ms), to avoid starting a round the budget cannot hold. */
  roundMs: number;
  /** Every cell's interim verdict is settled (GO, NO-GO or NEUTRAL at the stricter interim level). */
  allSettled: boolean;
  /** Every variant repeated its value exactly (callgrind): more pairs add nothing. */
  deterministic: boolean;
}

/**
 * Adaptive stopping: never before minPairs; then stop as soon as every cell is settled, or the
 * metric is deterministic; always at maxPairs or when the next round would overrun the budget.
 */
export function stopReason(s: StopState): StopReason | null {
  if (s.pairs >= s.maxPairs) return 'max-pairs';
  if (s.pairs >= s.minPairs && s.deterministic && s.pairs >= 2) return 'deterministic';
  if (s.pairs >= s.minPairs && s.allSettled) return 'settled';
  if (s.pairs > 0 && s.elapsedMs + s.roundMs > s.budgetMs) return 'budget';
  return null;
}
