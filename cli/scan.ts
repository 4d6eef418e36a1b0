import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { defaultSettings } from '../core/config';
import { bundledWasm, nodeIndexHost } from '../core/host/nodeHost';
import { WorkspaceIndex, type IndexSummary } from '../core/index/workspaceIndex';
import { CParser } from '../core/parsing/cParser';

interface ScanOptions {
  json?: boolean;
  maxFiles: number;
  exclude: string[];
}

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerScan(program: Command): void {
  const defaults = defaultSettings().index;
  program
    .command('scan')
    .description('Parse every C file under the folders and count functions, atomic operations and getenv calls.')
    .argument('[dirs...]', 'folders to scan', ['.'])
    .option('--json', 'print the full summary as JSON')
    .option('--max-files <n>', 'most files to read per folder', positiveInt, defaults.maxFiles)
    .option('--exclude <glob>', 'skip files matching the glob (repeatable)', collect, [...defaults.exclude])
    .action(async (dirs: string[], opts: ScanOptions) => {
      const roots = [];
      for (const dir of dirs) {
        const abs = path.resolve(dir);
        const st = await fs.stat(abs).catch(() => undefined);
        if (!st?.isDirectory()) throw new Error(`${dir}: not a folder`);
        roots.push({ root: abs, limits: { ...defaults, maxFiles: opts.maxFiles, exclude: opts.exclude } });
      }
      const parser = await CParser.create(bundledWasm(__dirname));
      try {
        const index = new WorkspaceIndex({ parser, host: nodeIndexHost, log: (m) => process.stderr.write(`${m}\n`) });
        const summary = await index.indexAll(roots);
        process.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
      } finally {
        parser.dispose();
      }
    });
}

function formatSummary(s: IndexSummary): string {
  const lines = [
    `${s.files} C files, ${s.functions} functions, ${s.atomicCalls} atomic operations, ${s.getenvCalls} getenv calls (${Math.round(s.durationMs)} ms)`,
  ];
  const skipped = s.skipped.overCap + s.skipped.tooLarge + s.skipped.unreadable;
  if (skipped) lines.push(`skipped ${skipped}: ${s.skipped.overCap} over --max-files, ${s.skipped.tooLarge} too large, ${s.skipped.unreadable} unreadable`);
  const cwd = process.cwd();
  for (const f of s.perFile) {
    if (f.errorLines.length) lines.push(`${path.relative(cwd, f.path)}: parse errors at line ${f.errorLines.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}
