import * as assert from 'node:assert/strict';
import { decideVerdict } from '../../core/ab/verdict';
import type { Direction, Verdict } from '../../core/ab/types';

// [delta, ci, direction, verdict, why]; margin 0.5% unless given
const TABLE: [number, [number, number], Direction, Verdict, string, number?][] = [
  [1.0, [0.4, 1.6], 'higher', 'GO', 'CI above 0, Δ ≥ margin'],
  [0.6, [0.1, 1.1], 'higher', 'GO', 'CI above 0, Δ just over the margin'],
  [0.5, [0.01, 0.99], 'higher', 'GO', 'Δ exactly at the margin'],
  [0.4, [0.1, 0.7], 'higher', 'INCONCLUSIVE', 'real but maybe below the margin'],
  [0.3, [0.1, 0.45], 'higher', 'NEUTRAL', 'real but wholly inside ±margin'],
  [1.0, [-0.2, 2.2], 'higher', 'INCONCLUSIVE', 'CI spans 0'],
  [-1.0, [-1.6, -0.4], 'higher', 'NO-GO', 'mirror of GO'],
  [-0.62, [-1.5, 0.3], 'higher', 'INCONCLUSIVE', 'Phase 29: -0.62% with noise'],
  [0.0, [-0.3, 0.3], 'higher', 'NEUTRAL', 'A/A'],
  [0.0, [-0.5, 0.5], 'higher', 'NEUTRAL', 'CI exactly at ±margin'],
  [0.0, [-0.51, 0.3], 'higher', 'INCONCLUSIVE', 'CI pokes out of the band'],
  [2.06, [2.06, 2.06], 'lower', 'NO-GO', 'instructions: +2.06% Ir is worse'],
  [-8.24, [-8.24, -8.24], 'lower', 'GO', 'instructions: -8.24% Ir is better'],
  [0.0, [0.0, 0.0], 'lower', 'NEUTRAL', 'identical'],
  [-1.0, [-1.5, -0.5], 'lower', 'GO', 'wall time down 1%'],
  [1.0, [0.4, 1.6], 'higher', 'NEUTRAL', 'margin 2%: a real +1% is still inside ±2%', 2],
  [1.5, [0.4, 2.6], 'higher', 'INCONCLUSIVE', 'margin 2%: not reached, not inside', 2],
  [0.8, [0.2, 1.4], 'higher', 'GO', 'margin 0: any clear gain', 0],
];

describe('A/B verdict (core/ab/verdict), table-driven', () => {
  for (const [deltaPct, ci, direction, verdict, why, margin] of TABLE) {
    it(`${verdict}: Δ ${deltaPct}% CI [${ci}] ${direction} is better, margin ${margin ?? 0.5}% (${why})`, () => {
      const v = decideVerdict({ deltaPct, ci, direction, marginPct: margin ?? 0.5 });
      assert.equal(v.verdict, verdict, v.reason);
      assert.equal(v.improvementPct, direction === 'higher' ? deltaPct : -deltaPct);
      assert.ok(v.reason.length > 20);
    });
  }
});
