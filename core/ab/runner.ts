// The experiment runner: builds every variant into its own out dir, records compiler, flags and
// binary hashes, skips the runs when the binaries are identical (except in A/A mode), then runs
// warmups and randomized interleaved rounds until the verdict settles or the budget is spent.
// Everything outside (processes, files, clock, machine facts) comes in through ExperimentDeps.
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { analyzeCells, cellKeys, emptyCell, cellWarnings, flagOutliers, isDeterministic, profileNames, type AnalyzeOptions } from './analyze';
import { flagPrefix } from './defaults';
import { baseUnit, callgrindArgv, metricLabel, readCallgrindTotal, readRegexMetric, type MetricRead } from './metric';
import { planRound, stopReason, warmupRuns, type PlannedRun, type StopReason } from './schedule';
import { Rng } from './stats';
import { cflagsOf, expandArgv, expandEnv, expandString, type TemplateVars } from './template';
import { validateConfig } from './validate';
import type {
  BinaryInfo,
  BuildInfo,
  CellResult,
  ExperimentConfig,
  ExperimentDeps,
  ExperimentError,
  ExperimentEvent,
  ExperimentOptions,
  ExperimentResult,
  ExperimentStatus,
  MachineInfo,
  RunOutcome,
  Sample,
  VariantSpec,
  Warning,
} from './types';

const FINAL: AnalyzeOptions = { level: 0.95, resamples: 2000 };
/** Interim looks use a stricter 99.5% CI, so that looking after every round does not inflate false GO/NO-GO (3.2% on 500 simulated A/A). */
const INTERIM_LEVEL = 0.995;
const INTERIM_RESAMPLES = 400;

const NO_MACHINE: MachineInfo = { cpu: null, cores: null, governor: null, kernel: null, load: null, hostname: null };

export function outRootOf(config: Pick<ExperimentConfig, 'folder' | 'name'>): string {
  return path.join(config.folder, '.alloc-lens', 'build', config.name);
}

export function outDirOf(config: Pick<ExperimentConfig, 'folder' | 'name'>, variant: string): string {
  return path.join(outRootOf(config), variant);
}

/** The clean env of the seeds' `cleanenv` runs: inherited variables with the allocator's prefix removed. */
export function cleanEnv(inherited: Record<string, string | undefined>, prefixes: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(inherited)) {
    if (v === undefined) continue;
    if (prefixes.some((p) => p && k.startsWith(p))) continue;
    out[k] = v;
  }
  return out;
}

/** The environment of one run: clean env, then the experiment's, the profile's and the variant's ENV. */
export function runEnv(config: ExperimentConfig, inherited: Record<string, string | undefined>, variant: VariantSpec, profile: string, vars: TemplateVars): Record<string, string> {
  const profileEnv = config.profiles.find((p) => p.name === profile)?.env ?? {};
  return {
    ...cleanEnv(inherited, config.cleanEnvPrefixes),
    ...config.env,
    ...profileEnv,
    ...variant.env,
    ...expandEnv(config.run.env, vars),
  };
}

function timestampId(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

function describeFailure(o: RunOutcome, timeoutMs: number): string | null {
  if (o.spawnError) return `could not start: ${o.spawnError}`;
  if (o.cancelled) return 'cancelled';
  if (o.timedOut) return `timed out after ${Math.round(timeoutMs / 1000)} s (process group killed)`;
  if (o.signal) return `crashed with ${o.signal}`;
  if (o.exitCode !== 0) return `exited with status ${o.exitCode}`;
  return null;
}

class Cancelled extends Error {}

class Failure extends Error {
  constructor(readonly detail: ExperimentError) {
    super(detail.message);
  }
}

export async function runExperiment(config: ExperimentConfig, deps: ExperimentDeps, options: ExperimentOptions = {}): Promise<ExperimentResult> {
  const { clock, host, fs } = deps;
  const signal = options.signal;
  const emit = (e: ExperimentEvent) => {
    try {
      options.onEvent?.(e);
    } catch {
      // a listener's bug must not end the experiment
    }
  };
  const startedMs = clock.now();
  const startedMono = clock.monotonic();
  const id = `${config.name}-${timestampId(startedMs)}`;
  const samples: Sample[] = [];
  const builds: BuildInfo[] = [];
  const warnings: Warning[] = [];
  let identicalBinaries = false;
  let cells: CellResult[] = [];
  let machine = NO_MACHINE;
  let tmpDir: string | null = null;
  let stop: StopReason | null = null;

  const warn = (w: Warning) => {
    warnings.push(w);
    emit({ type: 'warning', warning: w });
  };

  const finish = (status: ExperimentStatus, error: ExperimentError | null): ExperimentResult => {
    flagOutliers(samples);
    if (samples.some((s) => !s.warmup && s.value !== null)) {
      cells = analyzeCells(samples, config, { ...FINAL, resamples: config.bootstrapResamples || FINAL.resamples });
      for (const w of cellWarnings(cells, config, samples.length)) warn(w);
    } else if (!cells.length) {
      cells = analyzeCells([], config, FINAL);
    }
    const head = cells[0];
    const m = config.metric;
    return {
      schema: 1,
      id,
      name: config.name,
      flag: config.flag ?? null,
      status,
      error,
      verdict: head?.verdict ?? 'INCONCLUSIVE',
      deltaPct: head?.deltaPct ?? null,
      ci: head?.ci ?? null,
      pValue: head?.pValue ?? null,
      pairs: head?.pairs ?? 0,
      mdePct: head?.mdePct ?? null,
      samples: head?.samples ?? { a: [], b: [] },
      identicalBinaries,
      warnings,
      stopReason: stop,
      metric: { kind: m.kind, label: metricLabel(m), unit: baseUnit(m), direction: m.direction },
      marginPct: config.marginPct,
      cells,
      runs: samples,
      builds,
      machine,
      config,
      startedAt: new Date(startedMs).toISOString(),
      finishedAt: new Date(clock.now()).toISOString(),
      durationMs: clock.monotonic() - startedMono,
    };
  };

  const checkCancel = () => {
    if (signal?.aborted) throw new Cancelled();
  };

  try {
    const problems = validateConfig(config);
    if (problems.length) throw new Failure({ phase: 'config', message: problems.join('; ') });
    emit({ type: 'started', id, config, cells: cellKeys(config) });
    machine = (await deps.machine?.().catch(() => NO_MACHINE)) ?? NO_MACHINE;
    if (config.flag && config.cleanEnvPrefixes.length === 0 && flagPrefix(config.flag))
      warn({ code: 'no-flag-prefix', message: `no clean-env prefix is set: inherited ${flagPrefix(config.flag)}* variables reach the runs` });

    const profiles = profileNames(config);
    const varsOf = (variant: VariantSpec, profile: string): TemplateVars => ({
      folder: config.folder,
      out: outDirOf(config, variant.name),
      variant: variant.name,
      profile,
      experiment: config.name,
      defines: variant.defines,
    });

    // ---- build
    let compiler: string | null = null;
    if (config.build) {
      const cv = config.compilerVersion ?? ['cc', '--version'];
      if (cv.length) {
        const o = await host.run({ argv: cv, cwd: config.folder, env: cleanEnv(deps.env, []), timeoutMs: 10_000, signal });
        compiler = o.exitCode === 0 ? (o.stdout.split('\n')[0]?.trim() || null) : null;
      }
    }
    for (const variant of config.variants) {
      checkCancel();
      const vars = varsOf(variant, profiles[0]);
      const info: BuildInfo = {
        variant: variant.name,
        outDir: vars.out,
        argv: [],
        cflags: cflagsOf(variant),
        flags: null,
        compiler,
        durationMs: 0,
        exitCode: null,
        stderrTail: '',
        binaries: [],
      };
      if (config.build) {
        const argv = expandArgv(config.build.argv, vars);
        info.argv = argv;
        await fs.mkdir(vars.out);
        emit({ type: 'buildStarted', variant: variant.name, argv });
        const o = await host.run({
          argv,
          cwd: expandString(config.build.cwd ?? '${folder}', vars),
          env: { ...cleanEnv(deps.env, []), ...expandEnv(config.build.env, vars) },
          timeoutMs: config.buildTimeoutMs,
          signal,
        });
        info.durationMs = o.durationMs;
        info.exitCode = o.exitCode;
        info.stderrTail = o.stderrTail;
        const failure = describeFailure(o, config.buildTimeoutMs);
        if (o.cancelled) {
          builds.push(info);
          throw new Cancelled();
        }
        if (failure) {
          builds.push(info);
          emit({ type: 'buildFinished', variant: variant.name, ok: false, build: info });
          throw new Failure({ phase: 'build', message: `the build of variant ${variant.name} ${failure}`, variant: variant.name, argv, exitCode: o.exitCode, stderrTail: o.stderrTail });
        }
      }
      if (config.flagsFile) {
        const f = expandString(config.flagsFile, vars);
        info.flags = (await fs.exists(f)) ? (await fs.readFile(f)).toString('utf8').trim() : null;
      }
      for (const b of config.binaries) {
        const p = expandString(b, vars);
        let bin: BinaryInfo = { path: p, sha256: null, size: null };
        if (await fs.exists(p)) {
          const data = await fs.readFile(p);
          bin = { path: p, sha256: createHash('sha256').update(data).digest('hex'), size: data.length };
        }
        info.binaries.push(bin);
      }
      builds.push(info);
      emit({ type: 'buildFinished', variant: variant.name, ok: true, build: info });
    }

    // ---- identical binaries: the flag changes nothing
    const hashes = builds.map((b) => b.binaries.map((x) => x.sha256 ?? '?').join(','));
    const envKeys = config.variants.map((v) => JSON.stringify(Object.entries(v.env).sort()));
    identicalBinaries =
      config.binaries.length > 0 && builds.every((b) => b.binaries.every((x) => x.sha256 !== null)) && hashes.every((h) => h === hashes[0]);
    if (identicalBinaries) {
      emit({ type: 'identicalBinaries', variants: config.variants.map((v) => v.name) });
      const envSame = envKeys.every((k) => k === envKeys[0]);
      if (envSame && !config.aa) {
        warn({ code: 'identical-binaries', message: `the variants built identical binaries (sha256 ${hashes[0].slice(0, 12)}…): the ${config.flag ?? 'change'} changes nothing in the code, so no run was made` });
        cells = cellKeys(config).map((k) =>
          emptyCell(k, 'NEUTRAL', 'The binaries are identical: the change compiles to the same code, so it cannot change performance.', 0),
        );
        const result = finish('completed', null);
        emit({ type: 'finished', result });
        return result;
      }
      if (envSame) warn({ code: 'identical-binaries', message: 'the variants built identical binaries; A/A mode runs them anyway' });
    }

    // ---- runs
    if (config.metric.kind === 'instructions') tmpDir = await fs.mkdtemp('alloc-lens-callgrind-');
    const variantsByName = new Map(config.variants.map((v) => [v.name, v]));
    const runOne = async (plan: PlannedRun): Promise<Sample> => {
      checkCancel();
      const variant = variantsByName.get(plan.variant)!;
      const vars = varsOf(variant, plan.profile);
      let argv = expandArgv(config.run.argv, vars);
      const order = samples.length;
      const cgOut = tmpDir ? path.join(tmpDir, `callgrind.${order}.out`) : null;
      if (cgOut && config.metric.kind === 'instructions') argv = callgrindArgv(argv, cgOut, config.metric.valgrind);
      emit({ type: 'runStarted', order, variant: plan.variant, profile: plan.profile, warmup: plan.warmup });
      const startedAt = new Date(clock.now()).toISOString();
      const o = await host.run({
        argv,
        cwd: expandString(config.run.cwd ?? '${folder}', vars),
        env: runEnv(config, deps.env, variant, plan.profile, vars),
        timeoutMs: config.runTimeoutMs,
        signal,
      });
      const sample: Sample = {
        order,
        variant: plan.variant,
        profile: plan.profile,
        round: plan.round,
        position: plan.position,
        warmup: plan.warmup,
        value: null,
        startedAt,
        durationMs: o.durationMs,
        exitCode: o.exitCode,
        signal: o.signal,
        stderrTail: o.stderrTail,
      };
      if (o.cancelled) throw new Cancelled();
      const failure = describeFailure(o, config.runTimeoutMs);
      let read: MetricRead;
      if (failure) read = { error: failure };
      else if (config.metric.kind === 'regex') read = readRegexMetric(o.stdout, config.metric);
      else if (config.metric.kind === 'wall') read = { value: o.durationMs / 1000 };
      else read = (await fs.exists(cgOut!)) ? readCallgrindTotal((await fs.readFile(cgOut!)).toString('utf8')) : { error: 'callgrind wrote no out file' };
      if (cgOut) await fs.rm(cgOut).catch(() => undefined);
      if ('error' in read) {
        sample.error = read.error;
        samples.push(sample);
        emit({ type: 'sample', sample });
        throw new Failure({
          phase: failure ? 'run' : 'metric',
          message: `run ${order} (variant ${plan.variant}, profile ${plan.profile}${plan.warmup ? ', warmup' : ''}): ${read.error}`,
          variant: plan.variant,
          argv,
          exitCode: o.exitCode,
          stderrTail: o.stderrTail,
        });
      }
      sample.value = read.value;
      samples.push(sample);
      emit({ type: 'sample', sample });
      return sample;
    };

    const variantNames = config.variants.map((v) => v.name);
    for (const plan of warmupRuns(variantNames, profiles, config.warmup)) await runOne(plan);

    const rng = new Rng(config.seed);
    const measureStart = clock.monotonic();
    for (let round = 0; !stop; round++) {
      for (const plan of planRound(round, variantNames, profiles, rng)) await runOne(plan);
      const pairs = round + 1;
      const elapsedMs = clock.monotonic() - measureStart;
      const interim = analyzeCells(samples, config, { level: INTERIM_LEVEL, resamples: Math.min(INTERIM_RESAMPLES, config.bootstrapResamples) });
      cells = interim;
      emit({ type: 'stats', cells: interim, pairs, maxPairs: config.maxPairs, elapsedMs, budgetMs: config.budgetMs });
      stop = stopReason({
        pairs,
        minPairs: config.minPairs,
        maxPairs: config.maxPairs,
        elapsedMs,
        budgetMs: config.budgetMs,
        roundMs: elapsedMs / pairs,
        allSettled: interim.every((c) => c.verdict !== 'INCONCLUSIVE'),
        deterministic: isDeterministic(samples),
      });
    }
    if (stop === 'budget')
      warn({ code: 'budget-spent', message: `the time budget (${Math.round(config.budgetMs / 1000)} s) was spent after ${cells[0]?.pairs ?? 0} pair(s), before the verdict settled` });
    const result = finish('completed', null);
    emit({ type: 'finished', result });
    return result;
  } catch (err) {
    if (err instanceof Cancelled || (signal?.aborted && !(err instanceof Failure))) {
      const result = finish('cancelled', null);
      emit({ type: 'cancelled', result });
      return result;
    }
    const detail: ExperimentError = err instanceof Failure ? err.detail : { phase: 'run', message: err instanceof Error ? err.message : String(err) };
    const result = finish('failed', detail);
    emit({ type: 'failed', error: detail, result });
    return result;
  } finally {
    if (tmpDir) await fs.rm(tmpDir).catch(() => undefined);
  }
}
