// `alloc-lens ab`: one A/B experiment (or a matrix) from the terminal, over core/ab.
// Exit: 0 completed, 3 with --fail-on nogo and a NO-GO, 2 bad usage or a failed build,
// 1 a failed run (crash, timeout, no metric) or an unwritable result, 130 cancelled (Ctrl-C).
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { defaultSettings } from '../core/config';
import { experimentFromSettings, flagPrefix, isCIdentifier, type MetricKind } from '../core/ab/defaults';
import { markdownReport, csvReport, resultJson, saveResult, readHistory, crossMetricWarnings, writeTextAtomic, cellTableMarkdown, formatValue } from '../core/ab/results';
import { runExperiment } from '../core/ab/runner';
import { validateConfig } from '../core/ab/validate';
import { nodeAbFileSystem, nodeExperimentDeps } from '../core/host/abHost';
import type { ExperimentConfig, ExperimentEvent, ExperimentResult, MetricUnit, VariantSpec } from '../core/ab/types';

export const EXIT = { ok: 0, failure: 1, usage: 2, nogo: 3, cancelled: 130 } as const;

class UsageError extends Error {}

interface AbOptions {
  flag?: string;
  a: string;
  b: string;
  define: string[];
  defineA: string[];
  defineB: string[];
  env: string[];
  envA: string[];
  envB: string[];
  variant: string[];
  profile: string[];
  metric?: string;
  regex?: string;
  unit?: string;
  direction?: string;
  margin?: number;
  minPairs?: number;
  maxPairs?: number;
  warmup?: number;
  budget?: number;
  buildTimeout?: number;
  runTimeout?: number;
  seed: number;
  cvThreshold?: number;
  cleanEnv: string[];
  aa?: boolean;
  build?: string;
  run?: string;
  binary: string[];
  name?: string;
  phase?: string;
  temperature?: string;
  json?: string;
  markdown?: string;
  csv?: string;
  failOn?: string;
  save: boolean;
  progress?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

const nonNegInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
};
const positiveInt = (value: string): number => {
  const n = nonNegInt(value);
  if (n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
};
const positiveNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
};
const nonNegNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number ≥ 0');
  return n;
};

function keyValues(items: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const k = eq < 0 ? item : item.slice(0, eq);
    const v = eq < 0 ? (what === 'define' ? '1' : '') : item.slice(eq + 1);
    if (!isCIdentifier(k)) throw new UsageError(`--${what} ${JSON.stringify(item)}: ${JSON.stringify(k)} is not a C identifier`);
    out[k] = v;
  }
  return out;
}

function argvOption(text: string, what: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`--${what} takes a JSON array of arguments, e.g. --${what} '["./bench", "1000"]' (never a shell line)`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((x) => typeof x === 'string'))
    throw new UsageError(`--${what} takes a non-empty JSON array of strings`);
  return parsed;
}

/** `--profile NAME` (sets <PREFIX>PROFILE=NAME, as the seeds' HAKMEM_PROFILE) or `--profile NAME:K=V,K=V`. */
function parseProfile(text: string, prefix: string | null, presets: Record<string, Record<string, string>>): { name: string; env: Record<string, string> } {
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new UsageError(`--profile ${JSON.stringify(text)}: the name may hold letters, digits, '.', '_' and '-'`);
  if (colon >= 0) return { name, env: keyValues(text.slice(colon + 1).split(',').filter(Boolean), 'profile') };
  if (presets[name]) return { name, env: { ...presets[name] } };
  if (!prefix) throw new UsageError(`--profile ${name}: no such profile in allocLens.ab.profiles and no flag prefix to set <PREFIX>PROFILE; use --profile ${name}:K=V`);
  return { name, env: { [`${prefix}PROFILE`]: name } };
}

/** `--variant NAME:K=V,K=V` adds a matrix variant with these defines. */
function parseVariant(text: string): VariantSpec {
  const colon = text.indexOf(':');
  if (colon < 1) throw new UsageError(`--variant ${JSON.stringify(text)}: expected NAME:K=V[,K=V]`);
  return { name: text.slice(0, colon), defines: keyValues(text.slice(colon + 1).split(',').filter(Boolean), 'variant'), env: {} };
}

function makeDirOf(folder: string): string | undefined {
  if (existsSync(path.join(folder, 'Makefile'))) return undefined;
  if (existsSync(path.join(folder, 'allocator', 'Makefile'))) return '${folder}/allocator';
  return undefined;
}

export function buildConfig(dir: string, o: AbOptions): ExperimentConfig {
  const folder = path.resolve(dir);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new UsageError(`${dir}: not a folder`);
  const settings = defaultSettings().ab;
  const flag = o.flag;
  if (flag !== undefined && !isCIdentifier(flag)) throw new UsageError(`--flag ${JSON.stringify(flag)} is not a C identifier (letters, digits and _; not starting with a digit)`);
  const both = keyValues(o.define, 'define');
  const extraA = keyValues(o.defineA, 'define-a');
  const extraB = keyValues(o.defineB, 'define-b');
  if (!flag && !o.defineA.length && !o.defineB.length && !o.envA.length && !o.envB.length && !o.aa && !o.variant.length)
    throw new UsageError('say what differs: --flag NAME (A: NAME=0, B: NAME=1), or --define-a/--define-b/--env-a/--env-b, or --aa');
  const metric = (o.metric ?? settings.metric) as MetricKind;
  if (!['throughput', 'wall', 'instructions', 'regex'].includes(metric)) throw new UsageError(`--metric ${metric}: expected throughput, wall, instructions or regex`);
  const config = experimentFromSettings(settings, folder, flag ?? 'AB', { a: o.a, b: o.aa ? o.a : o.b, metric, makeDir: makeDirOf(folder) });
  if (!flag) {
    delete config.flag;
    for (const v of config.variants) v.defines = {};
    config.cleanEnvPrefixes = [];
    config.name = o.aa ? 'aa' : 'ab';
  }
  const prefix = flag ? flagPrefix(flag) : null;
  const [va, vb] = config.variants;
  Object.assign(va.defines, both, extraA);
  Object.assign(vb.defines, both, o.aa ? extraA : extraB);
  config.env = keyValues(o.env, 'env');
  va.env = keyValues(o.envA, 'env-a');
  vb.env = o.aa ? { ...va.env } : keyValues(o.envB, 'env-b');
  for (const v of o.variant.map(parseVariant)) config.variants.push({ ...v, defines: { ...both, ...v.defines } });
  config.profiles = o.profile.map((p) => parseProfile(p, prefix, settings.profiles));
  if (o.regex !== undefined) {
    config.metric = {
      kind: 'regex',
      pattern: o.regex,
      unit: (o.unit ?? 'count') as MetricUnit,
      direction: (o.direction ?? 'higher') as 'higher' | 'lower',
      label: 'metric',
    };
  } else if (o.unit !== undefined || o.direction !== undefined) {
    if (config.metric.kind !== 'regex') throw new UsageError('--unit and --direction go with a regex metric (--regex or --metric throughput/regex)');
    if (o.unit) config.metric.unit = o.unit as MetricUnit;
    if (o.direction) config.metric.direction = o.direction as 'higher' | 'lower';
  }
  if (o.margin !== undefined) config.marginPct = o.margin;
  if (o.minPairs !== undefined) config.minPairs = o.minPairs;
  if (o.maxPairs !== undefined) config.maxPairs = o.maxPairs;
  if (config.minPairs > config.maxPairs) {
    if (o.maxPairs === undefined) config.maxPairs = config.minPairs;
    else if (o.minPairs === undefined) config.minPairs = config.maxPairs;
  }
  if (o.warmup !== undefined) config.warmup = o.warmup;
  if (o.budget !== undefined) config.budgetMs = o.budget * 1000;
  if (o.buildTimeout !== undefined) config.buildTimeoutMs = o.buildTimeout * 1000;
  if (o.runTimeout !== undefined) config.runTimeoutMs = o.runTimeout * 1000;
  if (o.cvThreshold !== undefined) config.cvThresholdPct = o.cvThreshold;
  config.seed = o.seed;
  if (o.cleanEnv.length) config.cleanEnvPrefixes = [...o.cleanEnv];
  config.aa = Boolean(o.aa);
  if (o.build !== undefined) config.build = o.build === 'none' ? null : { argv: argvOption(o.build, 'build') };
  if (o.run !== undefined) config.run = { argv: argvOption(o.run, 'run') };
  if (o.binary.length) config.binaries = [...o.binary];
  else if (o.run !== undefined || o.build !== undefined) config.binaries = [];
  if (o.name !== undefined) config.name = o.name;
  else if (o.aa) config.name = `${config.name}-aa`;
  if (o.metric === 'instructions' || metric === 'instructions') config.name = `${config.name}-ir`;
  if (o.phase) config.phase = o.phase;
  if (o.temperature) {
    if (!['hot', 'warm', 'cold', 'unknown'].includes(o.temperature)) throw new UsageError(`--temperature ${o.temperature}: expected hot, warm, cold or unknown`);
    config.pathTemperature = o.temperature as ExperimentConfig['pathTemperature'];
  }
  const problems = validateConfig(config);
  if (problems.length) throw new UsageError(problems.join('\n'));
  return config;
}

// ---- output

function progressLine(e: ExperimentEvent, state: { pairs: number; maxPairs: number }, tty: boolean, unit: string): string | null {
  switch (e.type) {
    case 'buildStarted':
      return `build ${e.variant}: ${e.argv.join(' ')}`;
    case 'buildFinished':
      return e.ok ? `built ${e.variant} in ${(e.build.durationMs / 1000).toFixed(1)} s${e.build.binaries.map((b) => ` ${path.basename(b.path)} sha256 ${b.sha256?.slice(0, 12) ?? 'missing'}`).join('')}` : null;
    case 'identicalBinaries':
      return `identical binaries: ${e.variants.join(', ')}`;
    case 'sample': {
      if (tty) return null;
      const s = e.sample;
      return `run ${s.order} ${s.warmup ? 'warmup ' : ''}${s.variant}${s.profile !== 'default' ? `/${s.profile}` : ''}: ${s.value === null ? `failed (${s.error})` : formatValue(s.value, unit)}`;
    }
    case 'stats': {
      state.pairs = e.pairs;
      state.maxPairs = e.maxPairs;
      const c = e.cells[0];
      const text = `pairs ${e.pairs}/${e.maxPairs}  Δ ${c?.deltaPct === null || !c ? '—' : `${c.deltaPct >= 0 ? '+' : ''}${c.deltaPct.toFixed(2)}%`}  ${c?.verdict ?? ''}  ${Math.round(e.elapsedMs / 1000)}/${Math.round(e.budgetMs / 1000)} s`;
      if (!tty) return text;
      const width = 24;
      const filled = Math.round((width * Math.min(1, Math.max(e.pairs / e.maxPairs, e.elapsedMs / e.budgetMs))) || 0);
      return `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`;
    }
    case 'warning':
      return `warning: ${e.warning.message}`;
    default:
      return null;
  }
}

export function summaryText(result: ExperimentResult, files: string[]): string {
  const lines: string[] = [''];
  lines.push(`${result.flag ?? result.name}: ${result.metric.label}, ${result.metric.direction} is better, margin ±${result.marginPct}%`);
  lines.push(cellTableMarkdown(result).trimEnd());
  for (const c of result.cells) lines.push(`${result.cells.length > 1 ? `${c.variant} vs ${c.baseline} · ${c.profile}: ` : ''}${c.verdict}: ${c.reason}`);
  if (result.stopReason) lines.push(`Stopped after ${result.pairs} pair(s): ${{ settled: 'the verdict settled', deterministic: 'the metric repeats exactly', 'max-pairs': 'the most pairs allowed', budget: 'the time budget was spent' }[result.stopReason]}.`);
  if (result.identicalBinaries) lines.push('The variants built identical binaries.');
  for (const w of result.warnings) lines.push(`warning (${w.code}): ${w.message}`);
  if (result.status !== 'completed') lines.push(`The experiment was ${result.status}${result.error ? `: ${result.error.message}` : ''}; ${result.runs.length} run(s) kept.`);
  for (const f of files) lines.push(`wrote ${f}`);
  return `${lines.join('\n')}\n`;
}

export function registerAb(program: Command): void {
  const s = defaultSettings().ab;
  program
    .command('ab')
    .description('A/B a compile flag (or ENV) on a benchmark: variants built side by side, randomized interleaved pairs, a verdict with a 95% CI.')
    .argument('[dir]', 'the workspace folder (allocator/ or a folder holding allocator/)', '.')
    .option('--flag <NAME>', 'the flag to compare: A builds -DNAME=<a>, B builds -DNAME=<b>')
    .option('--a <value>', "the flag's value for A", '0')
    .option('--b <value>', "the flag's value for B", '1')
    .option('--define <K=V>', 'a -D define for both variants (repeatable)', collect, [])
    .option('--define-a <K=V>', 'a -D define for A only (repeatable)', collect, [])
    .option('--define-b <K=V>', 'a -D define for B only (repeatable)', collect, [])
    .option('--env <K=V>', 'ENV for every run (repeatable)', collect, [])
    .option('--env-a <K=V>', 'ENV for the runs of A (repeatable)', collect, [])
    .option('--env-b <K=V>', 'ENV for the runs of B (repeatable)', collect, [])
    .option('--variant <NAME:K=V,...>', 'another variant for a matrix, compared with A (repeatable)', collect, [])
    .option('--profile <P>', 'a profile: NAME (sets <PREFIX>PROFILE=NAME) or NAME:K=V,K=V; several make a matrix', collect, [])
    .option('--metric <kind>', 'throughput | wall | instructions | regex', s.metric)
    .option('--regex <re>', 'metric regex over stdout (named group value, or group 1)')
    .option('--unit <unit>', 'unit of the regex number: ops/s, M ops/s, ns, us, ms, s, count')
    .option('--direction <dir>', 'higher | lower is better (regex metric)')
    .option('--margin <pct>', `verdict margin in percent (default ${s.marginPct})`, nonNegNumber)
    .option('--min-pairs <n>', `pairs before stopping early (default ${s.minPairs})`, positiveInt)
    .option('--max-pairs <n>', `most pairs (default ${s.maxPairs})`, positiveInt)
    .option('--warmup <n>', `discarded runs per variant (default ${s.warmup})`, nonNegInt)
    .option('--budget <seconds>', `time budget for the measured runs (default ${s.budgetSeconds})`, positiveNumber)
    .option('--build-timeout <seconds>', `build timeout (default ${s.buildTimeoutSeconds})`, positiveNumber)
    .option('--run-timeout <seconds>', `run timeout (default ${s.runTimeoutSeconds})`, positiveNumber)
    .option('--seed <n>', 'seed of the run order and the bootstrap', nonNegInt, 1)
    .option('--cv-threshold <pct>', `warn above this CV (default ${s.cvThresholdPct})`, positiveNumber)
    .option('--clean-env <PREFIX>', "remove inherited ENV with this prefix (repeatable; default the flag's prefix)", collect, [])
    .option('--aa', 'A/A mode: both sides get A, and the runs happen even though the binaries are identical')
    .option('--build <json-argv>', `build command as a JSON array, or none (default ${JSON.stringify(s.buildCommand)})`)
    .option('--run <json-argv>', `benchmark command as a JSON array (default ${JSON.stringify(s.runCommand)})`)
    .option('--binary <path>', 'a built file to hash (template, e.g. ${out}/bench; repeatable); identical hashes skip the runs', collect, [])
    .option('--name <name>', 'experiment name (out dirs, result file)')
    .option('--phase <label>', 'label for the history table, e.g. "Phase 24"')
    .option('--temperature <t>', 'path temperature of the flag for the history: hot | warm | cold')
    .option('--json <file>', 'also write the result JSON here (- for stdout)')
    .option('--markdown <file>', 'write a Markdown report (PHASE results shape)')
    .option('--csv <file>', 'write every run as CSV')
    .option('--fail-on <verdict>', 'exit 3 when the verdict is this (nogo)')
    .option('--no-save', 'do not write .alloc-lens/results/ (nor the history)')
    .option('--no-progress', 'no progress output')
    .action(async (dir: string, o: AbOptions) => {
      process.exitCode = await runAb(dir, o);
    });
}

async function runAb(dir: string, o: AbOptions): Promise<number> {
  let config: ExperimentConfig;
  try {
    if (o.failOn !== undefined && o.failOn.toLowerCase().replace(/[-_]/g, '') !== 'nogo') throw new UsageError(`--fail-on ${o.failOn}: only nogo is supported`);
    config = buildConfig(dir, o);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`alloc-lens ab: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
  const tty = Boolean(process.stderr.isTTY);
  const controller = new AbortController();
  let interrupted = 0;
  const onSigint = () => {
    interrupted++;
    if (interrupted > 1) process.exit(EXIT.cancelled);
    process.stderr.write('\ncancelling: killing the running process group, keeping the samples so far…\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const state = { pairs: 0, maxPairs: config.maxPairs };
  const unit = config.metric.kind === 'wall' ? 's' : config.metric.kind === 'instructions' ? 'Ir' : config.metric.unit.endsWith('ops/s') ? 'ops/s' : 's';
  let lastWasBar = false;
  const result = await runExperiment(config, nodeExperimentDeps(), {
    signal: controller.signal,
    onEvent: (e) => {
      if (o.progress === false) return;
      const line = progressLine(e, state, tty, unit);
      if (line === null) return;
      if (line.startsWith('\r')) {
        process.stderr.write(line);
        lastWasBar = true;
      } else {
        process.stderr.write(`${lastWasBar ? '\n' : ''}${line}\n`);
        lastWasBar = false;
      }
    },
  });
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigint);
  if (lastWasBar) process.stderr.write('\n');

  const fs = nodeAbFileSystem;
  const files: string[] = [];
  let writeFailed = false;
  const write = async (target: string, text: string) => {
    try {
      await writeTextAtomic(fs, path.resolve(target), text);
      files.push(target);
    } catch (err) {
      writeFailed = true;
      process.stderr.write(`alloc-lens ab: ${(err as Error).message}\n`);
    }
  };
  let history = await readHistory(fs, config.folder).catch(() => []);
  for (const w of crossMetricWarnings(result, history)) result.warnings.push(w);
  if (o.save) {
    try {
      const saved = await saveResult(fs, config.folder, result);
      const rel = path.relative(process.cwd(), saved);
      files.push(rel.startsWith('..') ? saved : rel);
      history = await readHistory(fs, config.folder);
    } catch (err) {
      writeFailed = true;
      process.stderr.write(`alloc-lens ab: ${(err as Error).message}\n`);
    }
  }
  if (o.json === '-') process.stdout.write(resultJson(result));
  else if (o.json) await write(o.json, resultJson(result));
  if (o.markdown) await write(o.markdown, markdownReport(result, history));
  if (o.csv) await write(o.csv, csvReport(result));
  (o.json === '-' ? process.stderr : process.stdout).write(summaryText(result, files));

  if (result.status === 'failed' && result.error) {
    const e = result.error;
    process.stderr.write(`alloc-lens ab: ${e.message}\n`);
    if (e.argv) process.stderr.write(`  command: ${e.argv.join(' ')}\n`);
    if (e.stderrTail) process.stderr.write(`  stderr (tail):\n${e.stderrTail.replace(/^/gm, '    ')}\n`);
    return e.phase === 'build' || e.phase === 'config' ? EXIT.usage : EXIT.failure;
  }
  if (result.status === 'cancelled') return EXIT.cancelled;
  if (writeFailed) return EXIT.failure;
  if (o.failOn && result.cells.some((c) => c.verdict === 'NO-GO')) return EXIT.nogo;
  return EXIT.ok;
}
