import * as assert from 'node:assert/strict';
import { planRound, stopReason, warmupRuns, type StopState } from '../../core/ab/schedule';
import { Rng } from '../../core/ab/stats';

const base: StopState = { pairs: 10, minPairs: 8, maxPairs: 60, elapsedMs: 1000, budgetMs: 60_000, roundMs: 300, allSettled: false, deterministic: false };

describe('A/B schedule (core/ab/schedule)', () => {
  it('warmups come first, once per variant and profile, and are marked', () => {
    const w = warmupRuns(['A', 'B'], ['p1', 'p2'], 2);
    assert.equal(w.length, 8);
    assert.ok(w.every((r) => r.warmup && r.round === -1));
  });

  it('a round runs every variant once per profile, in a seeded random order', () => {
    const rng = new Rng(5);
    const orders = new Set<string>();
    for (let round = 0; round < 40; round++) {
      const runs = planRound(round, ['A', 'B', 'C'], ['x', 'y'], rng);
      assert.equal(runs.length, 6);
      for (const p of ['x', 'y']) assert.deepEqual(runs.filter((r) => r.profile === p).map((r) => r.variant).sort(), ['A', 'B', 'C']);
      orders.add(runs.filter((r) => r.profile === 'x').map((r) => r.variant).join(''));
    }
    assert.equal(orders.size, 6, 'all 3! orders occur');
    const again = new Rng(5);
    assert.deepEqual(planRound(0, ['A', 'B', 'C'], ['x', 'y'], again), planRound(0, ['A', 'B', 'C'], ['x', 'y'], new Rng(5)));
  });

  it('adaptive stopping: never before minPairs unless the budget is spent; settled, deterministic, max pairs, budget', () => {
    assert.equal(stopReason({ ...base, pairs: 5, allSettled: true }), null);
    assert.equal(stopReason({ ...base, allSettled: true }), 'settled');
    assert.equal(stopReason(base), null);
    assert.equal(stopReason({ ...base, pairs: 60 }), 'max-pairs');
    assert.equal(stopReason({ ...base, pairs: 2, minPairs: 2, deterministic: true }), 'deterministic');
    assert.equal(stopReason({ ...base, elapsedMs: 59_800 }), 'budget');
    assert.equal(stopReason({ ...base, pairs: 3, elapsedMs: 61_000 }), 'budget');
  });
});
