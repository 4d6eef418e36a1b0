// `npm run bench:ab-sim`: the A/B engine on simulated benchmarks (core/ab/simulate: the real
// runner over a fake process host), compared with the seeds' rule (10 runs per side in two
// batches, means, ±0.5%). Prints numbers; asserts nothing.
import { fixedTenRunsMany, simulateMany, type SimSummary } from '../core/ab/simulate';

const N_AA = Number(process.env.AB_SIM_AA ?? 400);
const N_POWER = Number(process.env.AB_SIM_POWER ?? 200);
const pct = (k: number, n: number) => `${((100 * k) / n).toFixed(1)}%`;
const fp = (v: SimSummary['verdicts']) => v.GO + v['NO-GO'];

async function main(): Promise<void> {
  const t0 = Date.now();
  console.log(`A/B engine simulation: σ = 1% per run, margin ±0.5%, 8–60 pairs, 99.5% interim / 95% final CI`);
  console.log('');
  const aa = await simulateMany({ effectPct: 0, sigmaPct: 1 }, N_AA);
  const seedsAa = fixedTenRunsMany({ effectPct: 0, sigmaPct: 1 }, N_AA);
  console.log(`A/A (no effect), ${N_AA} experiments:`);
  console.log(`  alloc-lens : false GO/NO-GO ${fp(aa.verdicts)}/${N_AA} = ${pct(fp(aa.verdicts), N_AA)} (target ≤ 5%)  verdicts ${JSON.stringify(aa.verdicts)}  pairs mean ${aa.pairs.mean.toFixed(1)}`);
  console.log(`  seeds rule : false GO/NO-GO ${fp(seedsAa)}/${N_AA} = ${pct(fp(seedsAa), N_AA)}  verdicts ${JSON.stringify(seedsAa)}  (20 runs)`);
  console.log('');
  for (const effect of [1, 0.5]) {
    const p = await simulateMany({ effectPct: effect, sigmaPct: 1 }, N_POWER, {}, 10_000);
    const seeds = fixedTenRunsMany({ effectPct: effect, sigmaPct: 1 }, N_POWER, 10_000);
    console.log(`+${effect}% true effect, ${N_POWER} experiments:`);
    console.log(`  alloc-lens : GO ${pct(p.verdicts.GO, N_POWER)}, NO-GO ${pct(p.verdicts['NO-GO'], N_POWER)}  verdicts ${JSON.stringify(p.verdicts)}`);
    console.log(`               pairs to resolve: median ${p.pairs.median}, mean ${p.pairs.mean.toFixed(1)}, p90 ${p.pairs.p90}, max ${p.pairs.max}${effect === 1 ? ' (target ≤ 30)' : ''}`);
    console.log(`  seeds rule : GO ${pct(seeds.GO, N_POWER)}, NO-GO ${pct(seeds['NO-GO'], N_POWER)}  verdicts ${JSON.stringify(seeds)}  (always 10 runs per side)`);
    console.log('');
  }
  const drift = await simulateMany({ effectPct: 0, sigmaPct: 0.5, driftPctPerRun: 0.05 }, 100, {}, 20_000);
  const seedsDrift = fixedTenRunsMany({ effectPct: 0, sigmaPct: 0.5, driftPctPerRun: 0.05 }, 100, 20_000);
  console.log('A/A with machine drift of +0.05% per run (σ = 0.5%), 100 experiments:');
  console.log(`  alloc-lens : false GO/NO-GO ${pct(fp(drift.verdicts), 100)} (interleaved pairs cancel the drift)`);
  console.log(`  seeds rule : false GO/NO-GO ${pct(fp(seedsDrift), 100)} (A's batch then B's batch)`);
  console.log('');
  console.log(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

void main();
