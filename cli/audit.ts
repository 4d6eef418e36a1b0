import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { defaultSettings } from '../core/config';
import { bundledWasm, nodeIndexHost } from '../core/host/nodeHost';
import { WorkspaceIndex } from '../core/index/workspaceIndex';
import { analysisOptionsFrom } from '../core/analysis/options';
import type { AtomicReport, AuditReport } from '../core/analysis/report';
import { toSarif } from '../core/analysis/sarif';
import { CParser } from '../core/parsing/cParser';

declare const ALLOC_LENS_VERSION: string;

interface AuditOptions {
  format: 'text' | 'json' | 'sarif';
  define: string[];
  entry: string[];
  printFn: string[];
  exclude: string[];
  maxFiles: number;
}

const collect = (value: string, previous: string[]) => [...previous, value];

const define = (value: string, previous: string[]) => {
  if (!/^[A-Za-z_][A-Za-z0-9_]*(=.*)?$/.test(value)) throw new InvalidArgumentError('expected NAME or NAME=VALUE');
  return [...previous, value];
};

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

/** Bad usage: exit status 2 with the message (main() maps it). */
class UsageError extends Error {}

export function registerAudit(program: Command): void {
  const defaults = defaultSettings();
  program
    .command('audit')
    .description('Classify every atomic (telemetry / correctness, hot / warm / cold), ENV gate and compile flag under a folder.')
    .argument('[dir]', 'the folder to audit', '.')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif']).default('text'))
    .option('--define <NAME=V>', 'a -D define for #if evaluation (repeatable)', define, [])
    .option('--entry <fn>', 'an entry point (repeatable; replaces the defaults: malloc, free, *_alloc, ...)', collect, [])
    .option('--print-fn <fn>', 'a logging function whose arguments count as printed (repeatable)', collect, [])
    .option('--exclude <glob>', 'skip files matching the glob (repeatable)', collect, [...defaults.index.exclude])
    .option('--max-files <n>', 'most files to read', positiveInt, defaults.index.maxFiles)
    .action(async (dir: string, opts: AuditOptions) => {
      const root = path.resolve(dir);
      const st = await fs.stat(root).catch(() => undefined);
      if (!st?.isDirectory()) throw new UsageError(`${dir}: not a readable folder`);
      try {
        await fs.access(root, fs.constants.R_OK | fs.constants.X_OK);
      } catch {
        throw new UsageError(`${dir}: not a readable folder`);
      }
      const options = analysisOptionsFrom({
        ...defaults.analysis,
        entryPoints: opts.entry.length ? opts.entry : defaults.analysis.entryPoints,
        defines: opts.define,
        printFunctions: opts.printFn,
      });
      const parser = await CParser.create(bundledWasm(__dirname));
      try {
        const index = new WorkspaceIndex({ parser, host: nodeIndexHost, log: (m) => process.stderr.write(`${m}\n`) });
        await index.indexAll([{ root, limits: { ...defaults.index, exclude: opts.exclude, maxFiles: opts.maxFiles } }]);
        const report = index.report(options, root);
        if (opts.format === 'json') process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else if (opts.format === 'sarif') process.stdout.write(`${JSON.stringify(toSarif(report, ALLOC_LENS_VERSION), null, 2)}\n`);
        else process.stdout.write(formatText(report));
      } finally {
        parser.dispose();
      }
    });
}

export function isUsageError(err: unknown): boolean {
  return err instanceof UsageError;
}

function formatText(r: AuditReport): string {
  const out: string[] = [];
  const tag = (a: AtomicReport) => `${a.classification.toUpperCase()} ${a.temperature}${a.guard ? ` #if ${a.guard}` : ''}${a.gates.length ? ` gate ${a.gates.join(',')}` : ''}`;
  out.push(`alloc-lens audit ${r.root}: ${r.files} C files, ${r.atomics.length} atomic write sites, ${r.envGates.length} ENV gates, ${r.flags.length} compile flags`);
  const byFile = new Map<string, AtomicReport[]>();
  for (const a of r.atomics) byFile.set(a.file, [...(byFile.get(a.file) ?? []), a]);
  for (const [file, list] of byFile) {
    out.push('', file);
    for (const a of list) {
      out.push(`  ${String(a.line).padStart(4)}  ${a.op.padEnd(8)} ${a.target.replace(/^&/, '').padEnd(44)} ${tag(a)}  (${a.function ?? '-'})`);
      out.push(`        ${a.reason}`);
    }
  }
  if (r.envGates.length) {
    out.push('', 'ENV gates');
    for (const g of r.envGates) {
      const def = g.default === 'value' ? `default ${g.defaultValue}` : g.default === 'unknown' ? 'default unknown' : `default ${g.default.toUpperCase()}`;
      out.push(`  ${g.name.padEnd(30)} ${def.padEnd(16)} ${g.cached ? `cached in ${g.cachedIn}` : 'read each time'}  ${g.file}:${g.line}`);
      // Presets grouped by the variable that selects them (QUILL_PROFILE=..., QUILL_MODE=...).
      const presets = (g as { presets?: { selector: string | null; profile: string; value: string }[] }).presets ?? [];
      const bySelector = new Map<string, string[]>();
      for (const p of presets) bySelector.set(p.selector ?? 'profile', [...(bySelector.get(p.selector ?? 'profile') ?? []), `${p.profile}=${p.value}`]);
      for (const [selector, values] of bySelector) out.push(`        under ${selector}: ${values.join(' ')}`);
      if (g.gatedFunctions.length) out.push(`        gates: ${g.gatedFunctions.join(', ')} (${g.gatedAtomics.length} atomics)`);
    }
  }
  if (r.flags.length) {
    out.push('', 'Compile flags');
    for (const f of r.flags) {
      const state = f.enabled === null ? 'depends on the build' : f.enabled ? 'compiled in' : 'compiled out';
      out.push(`  ${f.name.padEnd(30)} default ${String(f.default).padEnd(4)} ${state.padEnd(22)} ${f.uses.length} use(s)  ${f.file}:${f.line}`);
    }
  }
  if (r.findings.length) {
    out.push('', `Findings (${r.findings.length})`);
    for (const f of r.findings) out.push(`  ${f.file}:${f.line}  ${f.severity.padEnd(7)} ${f.rule}: ${f.message}`);
  }
  if (r.skipped.length) {
    out.push('', 'Partly analysed');
    for (const s of r.skipped) out.push(`  ${s.file}: ${s.reason}`);
  }
  const count = (c: string) => r.atomics.filter((a) => a.classification === c).length;
  const exposed = r.atomics.filter((a) => a.classification === 'telemetry' && !a.guard && (a.temperature === 'hot' || a.temperature === 'warm')).length;
  out.push('', `${r.atomics.length} atomics: ${count('telemetry')} telemetry (${exposed} not compiled out on hot/warm paths), ${count('correctness')} correctness, ${count('unknown')} unknown`);
  return `${out.join('\n')}\n`;
}
