import { experimentFromSettings, experimentName, isCIdentifier, type ExperimentConfig, type ExperimentResult, type MetricKind } from '../../core/ab';
import type { Temperature } from '../../core/analysis/report';
import type { AbSettings } from '../../core/config';

/**
 * What a user asks for, from the quick inputs or a tasks.json entry (the `allocLens.ab` task
 * definition has exactly these properties). `defines` and `env` are B's change against A.
 */
export interface AbRequest {
  flag?: string;
  a?: string | number;
  b?: string | number;
  defines?: Record<string, string | number>;
  env?: Record<string, string>;
  profile?: string;
  profiles?: string[];
  metric?: Exclude<MetricKind, 'regex'>;
  margin?: number;
  minPairs?: number;
  maxPairs?: number;
  failOn?: 'nogo';
  temperature?: Temperature;
  phase?: string;
}

export class AbRequestError extends Error {}

const str = (v: string | number | undefined) => (v === undefined ? undefined : String(v));

/**
 * Turns a request into the engine's config: the engine's experiment from the folder's
 * `allocLens.ab.*` settings, then the request. Profiles run only when asked for (one, or a
 * matrix of several). Throws AbRequestError for what the user has to fix.
 */
export function buildExperiment(folder: string, req: AbRequest, settings: AbSettings): ExperimentConfig {
  const defines = Object.fromEntries(Object.entries(req.defines ?? {}).map(([k, v]) => [k, String(v)]));
  const env = { ...(req.env ?? {}) };
  for (const name of [...(req.flag ? [req.flag] : []), ...Object.keys(defines), ...Object.keys(env)]) {
    if (!isCIdentifier(name)) throw new AbRequestError(`"${name}" is not a C identifier: flags, defines and ENV names must match [A-Za-z_][A-Za-z0-9_]*`);
  }
  if (!req.flag && !Object.keys(defines).length && !Object.keys(env).length) {
    throw new AbRequestError('an A/B experiment needs a flag, or defines or env for variant B');
  }
  const a = str(req.a) ?? '0';
  const b = str(req.b) ?? '1';
  // A flag-less request borrows the first define or ENV name for the engine's defaults (names, prefix).
  const anchor = req.flag ?? Object.keys(defines)[0] ?? Object.keys(env)[0];
  const config = experimentFromSettings(settings, folder, anchor, { a, b, ...(req.metric ? { metric: req.metric } : {}) });
  if (!req.flag) {
    config.flag = undefined;
    config.variants = [
      { name: 'A', defines: {}, env: {} },
      { name: 'B', defines, env },
    ];
    config.name = experimentName(undefined, 'base', [...Object.entries(defines), ...Object.entries(env)].map(([k, v]) => `${k}=${v}`).join('_'));
  } else {
    Object.assign(config.variants[1].defines, defines);
    Object.assign(config.variants[1].env, env);
  }
  const profileNames = req.profiles ?? (req.profile ? [req.profile] : []);
  config.profiles = profileNames.map((name) => {
    const preset = settings.profiles[name];
    if (!preset) {
      const known = Object.keys(settings.profiles);
      throw new AbRequestError(`unknown profile "${name}": ${known.length ? `known profiles are ${known.join(', ')}` : 'no profiles are set in allocLens.ab.profiles'}`);
    }
    return { name, env: { ...preset } };
  });
  if (profileNames.length) config.name = `${config.name}-${profileNames.join('+')}`.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120);
  if (req.margin !== undefined) config.marginPct = req.margin;
  if (req.minPairs !== undefined) config.minPairs = req.minPairs;
  if (req.maxPairs !== undefined) config.maxPairs = req.maxPairs;
  config.maxPairs = Math.max(config.minPairs, config.maxPairs);
  if (req.temperature) config.pathTemperature = req.temperature;
  if (req.phase) config.phase = req.phase;
  return config;
}

/** The exit statuses of `alloc-lens ab` (cli/ab.ts; not imported: it would bundle the CLI into the extension). */
export const EXIT = { ok: 0, failure: 1, usage: 2, nogo: 3, cancelled: 130 } as const;

/** A task's exit status, as `alloc-lens ab` would exit on the same result, so tasks chain like scripts. */
export function exitCodeOf(result: ExperimentResult, opts: { failOn?: 'nogo'; unsaved?: boolean } = {}): number {
  if (result.status === 'failed') return result.error?.phase === 'build' || result.error?.phase === 'config' ? EXIT.usage : EXIT.failure;
  if (result.status === 'cancelled') return EXIT.cancelled;
  if (opts.unsaved) return EXIT.failure;
  if (opts.failOn === 'nogo' && result.cells.some((c) => c.verdict === 'NO-GO')) return EXIT.nogo;
  return EXIT.ok;
}

/** `A/B QUILL_X (0 vs 1) · PROFILE · instructions`, or the change for a flag-less request. */
export function taskName(def: AbRequest): string {
  if (def.flag) return `A/B ${def.flag} (${def.a ?? 0} vs ${def.b ?? 1})${def.profile ? ` · ${def.profile}` : ''}${def.metric && def.metric !== 'throughput' ? ` · ${def.metric}` : ''}`;
  const change = [...Object.entries(def.defines ?? {}), ...Object.entries(def.env ?? {})].map(([k, v]) => `${k}=${v}`).join(' ');
  return `A/B ${change || 'experiment'}`;
}
