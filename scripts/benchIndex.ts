// `npm run bench:index`: how fast the analysis indexes a large allocator codebase, against the raw
// web-tree-sitter parse of the same files, measured in one run on this machine.
//
// Corpus: copies of allocator/ (sources, headers, tests, benchmarks) with every quill symbol
// renamed per copy, plus one 3,000-line file. Prints: the raw parse time of every file, the cold
// index time (glob + read + prefilter + parse + facts + the workspace report) and their ratio;
// the re-analysis time after a one-line edit in the 3,000-line file (median of 20, incremental
// reparse + facts + report, as the language server does it); and peak RSS (getrusage's maxrss:
// the whole process, index worker threads included). ALLOC_LENS_INDEX_WORKERS sets the number of
// index workers (the bundle's indexWorker.js sits next to it in out/bench/).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { globSync } from 'tinyglobby';
import type { Edit, Point } from 'web-tree-sitter';
import { defaultAnalysisOptions } from '../core/analysis/options';
import { nodeIndexHost } from '../core/host/nodeHost';
import { WorkspaceIndex } from '../core/index/workspaceIndex';
import { CParser } from '../core/parsing/cParser';
import { defaultSettings } from '../core/config';

// npm runs scripts from the package root; the bundle lives in out/bench/.
const ROOT = process.cwd();
const MIN_FILES = 800;
const MIN_BYTES = 5 * 1024 * 1024;
const BIG_LINES = 3000;

function wasm() {
  return {
    runtimeWasm: path.join(ROOT, 'node_modules', 'web-tree-sitter', 'tree-sitter.wasm'),
    languageWasm: path.join(ROOT, 'node_modules', 'tree-sitter-c', 'tree-sitter-c.wasm'),
  };
}

function rename(text: string, i: number): string {
  return text.replace(/quill/g, `m${i}q`).replace(/QUILL/g, `M${i}Q`);
}

function buildCorpus(dir: string): { files: string[]; bytes: number; big: string } {
  const sources = globSync(['src/**/*.{c,h}', 'include/**/*.h', 'tests/**/*.{c,h}', 'bench/**/*.{c,h}'], { cwd: path.join(ROOT, 'allocator') }).sort();
  const texts = sources.map((rel) => ({ rel, text: readFileSync(path.join(ROOT, 'allocator', rel), 'utf8') }));
  let files = 0;
  let bytes = 0;
  for (let i = 0; files < MIN_FILES || bytes < MIN_BYTES; i++) {
    for (const { rel, text } of texts) {
      const out = path.join(dir, `module${i}`, rename(rel, i));
      mkdirSync(path.dirname(out), { recursive: true });
      const body = rename(text, i);
      writeFileSync(out, body);
      files++;
      bytes += Buffer.byteLength(body);
    }
  }
  // One 3,000-line file: renamed copies of the tiny and malloc paths back to back.
  const parts: string[] = [];
  const donors = texts.filter((t) => /quill_(tiny|malloc|mid)\.c$/.test(t.rel)).map((t) => t.text);
  for (let k = 0; parts.join('\n').split('\n').length < BIG_LINES; k++) parts.push(rename(donors[k % donors.length], 9000 + k));
  const big = path.join(dir, 'big', 'hot_paths.c');
  mkdirSync(path.dirname(big), { recursive: true });
  const bigText = parts.join('\n');
  writeFileSync(big, bigText);
  return { files: files + 1, bytes: bytes + Buffer.byteLength(bigText), big };
}

function pointAt(text: string, index: number): Point {
  const before = text.slice(0, index);
  const row = before.split('\n').length - 1;
  return { row, column: index - (before.lastIndexOf('\n') + 1) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function main() {
  if (!existsSync(path.join(ROOT, 'allocator', 'src'))) throw new Error(`run it from the repository root (npm run bench:index), not ${ROOT}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alloc-lens-bench-'));
  try {
    const corpus = buildCorpus(dir);
    const parser = await CParser.create(wasm());
    const paths = globSync(['**/*.{c,h}'], { cwd: dir, absolute: true }).sort();
    const texts = paths.map((p) => readFileSync(p, 'utf8'));
    process.stdout.write(`corpus: ${paths.length} files, ${(corpus.bytes / 1024 / 1024).toFixed(2)} MB (allocator/ renamed ×${Math.ceil(paths.length / 24)}, plus a ${readFileSync(corpus.big, 'utf8').split('\n').length}-line file)\n`);

    // Warm up the wasm and the JIT on a few files, then the raw parse of every file.
    for (const t of texts.slice(0, 50)) parser.parse(t).delete();
    let raw = 0;
    for (const t of texts) {
      const s = performance.now();
      const tree = parser.parse(t);
      raw += performance.now() - s;
      tree.delete();
    }

    // Cold index: what the server does at startup (glob, read, prefilter, parse, facts, report).
    const settings = defaultSettings();
    const options = defaultAnalysisOptions();
    const index = new WorkspaceIndex({ parser, host: nodeIndexHost, sliceMs: 1e9 });
    const coldStart = performance.now();
    await index.indexAll([{ root: dir, limits: { ...settings.index, maxFiles: 100_000 } }]);
    const indexed = performance.now() - coldStart;
    const report = index.report(options, dir);
    const cold = performance.now() - coldStart;
    const summary = index.summary();

    // Re-analysis after a one-line edit in the big file: incremental reparse, facts, report.
    let text = readFileSync(corpus.big, 'utf8');
    let tree = parser.parse(text);
    index.updateFile(corpus.big, text, tree);
    index.report(options, dir);
    const times: number[] = [];
    const parts = { reparse: [] as number[], facts: [] as number[], report: [] as number[], full: [] as number[] };
    for (let i = 0; i < 20; i++) {
      const anchor = text.indexOf('bin->count--;', Math.floor((text.length * i) / 21));
      const at = anchor >= 0 ? anchor : Math.floor(text.length / 2);
      const insert = `/* edit ${i} */ `;
      const start = performance.now();
      const edit: Edit = {
        startIndex: at,
        oldEndIndex: at,
        newEndIndex: at + insert.length,
        startPosition: pointAt(text, at),
        oldEndPosition: pointAt(text, at),
        newEndPosition: pointAt(text.slice(0, at) + insert, at + insert.length),
      };
      text = text.slice(0, at) + insert + text.slice(at);
      tree.edit(edit);
      const next = parser.parse(text, tree);
      tree.delete();
      tree = next;
      const t1 = performance.now();
      index.updateFile(corpus.big, text, tree);
      const t2 = performance.now();
      const own = index.fileReport(options, dir, corpus.big);
      const t3 = performance.now();
      if (!own?.atomics.length) throw new Error('the edited file lost its atomics');
      times.push(t3 - start);
      parts.reparse.push(t1 - start);
      parts.facts.push(t2 - t1);
      parts.report.push(t3 - t2);
      // The whole workspace's report (what alloc-lens audit prints), after the same edit.
      index.report(options, dir);
      parts.full.push(performance.now() - t3);
    }
    tree.delete();
    const rssMB = process.resourceUsage().maxRSS / 1024;

    const ratio = cold / raw;
    const edit = median(times);
    const line = (label: string, value: string, target: string, ok: boolean) => process.stdout.write(`${label.padEnd(44)} ${value.padEnd(22)} target ${target.padEnd(16)} ${ok ? 'OK' : 'MISSED'}\n`);
    process.stdout.write(`files parsed by the index: ${summary.parsedFiles} of ${summary.files} (the rest cannot hold an atomic, getenv or a name that matters)\n`);
    process.stdout.write(`report: ${report.atomics.length} atomic write sites, ${report.envGates.length} ENV gates, ${report.flags.length} flags, ${report.findings.length} findings\n\n`);
    line('raw web-tree-sitter parse of every file', ms(raw), '(baseline)', true);
    line('cold index (read + parse + facts + report)', `${ms(cold)} = ${ratio.toFixed(2)}x raw`, '<= 1.00x raw', ratio <= 1);
    process.stdout.write(`  of which: read + prefilter + parse + facts ${ms(indexed)}, first workspace report ${ms(cold - indexed)}\n`);
    line('re-analysis after a one-line edit (median/20)', ms(edit), '<= 25 ms', edit <= 25);
    process.stdout.write(`  (incremental reparse + facts of the edited items + the edited file's analysis, as the editor needs it; the full workspace report after the edit: median ${ms(median(parts.full))})\n`);
    line('peak RSS', `${rssMB.toFixed(0)} MB`, '<= 200 MB', rssMB <= 200);
    process.stdout.write(`edit times (ms): ${times.map((t) => t.toFixed(1)).join(' ')}\n`);
    process.stdout.write(`edit medians: incremental reparse ${ms(median(parts.reparse))}, facts of the edited file ${ms(median(parts.facts))}, its analysis ${ms(median(parts.report))}\n`);
    parser.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err) => {
  process.stderr.write(`bench:index failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
