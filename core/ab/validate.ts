// Checks an ExperimentConfig before anything runs, so odd settings give a clear message
// instead of a half-run experiment.
import { isCIdentifier } from './defaults';
import { checkPattern } from './metric';
import { unknownPlaceholders } from './template';
import type { ExperimentConfig } from './types';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NAME = /^[A-Za-z0-9._-]+$/;

/** Problems with the config, one readable line each; empty when it can run. */
export function validateConfig(c: ExperimentConfig): string[] {
  const p: string[] = [];
  if (!NAME.test(c.name)) p.push(`experiment name ${JSON.stringify(c.name)}: use letters, digits, '.', '_' and '-' only`);
  if (!c.folder) p.push('no workspace folder');
  if (c.flag !== undefined && !isCIdentifier(c.flag)) p.push(`flag ${JSON.stringify(c.flag)} is not a C identifier`);
  if (c.variants.length < 2) p.push('an experiment needs at least two variants');
  const names = new Set<string>();
  for (const v of c.variants) {
    if (!NAME.test(v.name)) p.push(`variant name ${JSON.stringify(v.name)}: use letters, digits, '.', '_' and '-' only`);
    if (names.has(v.name)) p.push(`two variants are named ${v.name}`);
    names.add(v.name);
    for (const k of Object.keys(v.defines)) if (!isCIdentifier(k)) p.push(`variant ${v.name}: define ${JSON.stringify(k)} is not a C identifier`);
    for (const [k, val] of Object.entries(v.defines)) if (/[\s'"\\]/.test(val)) p.push(`variant ${v.name}: define ${k}=${JSON.stringify(val)} holds spaces or quotes`);
    for (const k of Object.keys(v.env)) if (!ENV_NAME.test(k)) p.push(`variant ${v.name}: ENV name ${JSON.stringify(k)} is not valid`);
  }
  if (c.baseline !== undefined && !names.has(c.baseline)) p.push(`baseline ${c.baseline} is not one of the variants`);
  const profiles = new Set<string>();
  for (const pr of c.profiles) {
    if (!NAME.test(pr.name)) p.push(`profile name ${JSON.stringify(pr.name)}: use letters, digits, '.', '_' and '-' only`);
    if (profiles.has(pr.name)) p.push(`two profiles are named ${pr.name}`);
    profiles.add(pr.name);
    for (const k of Object.keys(pr.env)) if (!ENV_NAME.test(k)) p.push(`profile ${pr.name}: ENV name ${JSON.stringify(k)} is not valid`);
  }
  for (const k of Object.keys(c.env)) if (!ENV_NAME.test(k)) p.push(`ENV name ${JSON.stringify(k)} is not valid`);
  if (c.run.argv.length === 0) p.push('the run command is empty');
  if (c.build && c.build.argv.length === 0) p.push('the build command is empty');
  const templates = [
    ...c.run.argv,
    ...(c.run.cwd ? [c.run.cwd] : []),
    ...Object.values(c.run.env ?? {}),
    ...(c.build ? [...c.build.argv, ...(c.build.cwd ? [c.build.cwd] : []), ...Object.values(c.build.env ?? {})] : []),
    ...c.binaries,
    ...(c.flagsFile ? [c.flagsFile] : []),
  ];
  const unknown = unknownPlaceholders(templates);
  if (unknown.length) p.push(`unknown placeholder(s) ${unknown.join(', ')}; known: \${folder} \${out} \${cflags} \${defines} \${variant} \${profile} \${experiment}`);
  if (c.metric.kind === 'regex') {
    const err = checkPattern(c.metric.pattern);
    if (err) p.push(err);
  }
  const int = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) p.push(`${name} must be an integer ≥ ${min}, not ${v}`);
  };
  int('warmup', c.warmup, 0);
  int('minPairs', c.minPairs, 1);
  int('maxPairs', c.maxPairs, 1);
  if (c.maxPairs < c.minPairs) p.push(`maxPairs (${c.maxPairs}) is below minPairs (${c.minPairs})`);
  int('bootstrapResamples', c.bootstrapResamples, 100);
  int('seed', c.seed, 0);
  for (const [name, v] of [
    ['budgetMs', c.budgetMs],
    ['buildTimeoutMs', c.buildTimeoutMs],
    ['runTimeoutMs', c.runTimeoutMs],
  ] as const)
    if (!(typeof v === 'number' && v > 0 && Number.isFinite(v))) p.push(`${name} must be a positive number of milliseconds, not ${v}`);
  if (!(c.marginPct >= 0 && c.marginPct < 100)) p.push(`marginPct must be from 0 to 100, not ${c.marginPct}`);
  if (!(c.cvThresholdPct > 0)) p.push(`cvThresholdPct must be positive, not ${c.cvThresholdPct}`);
  return p;
}
