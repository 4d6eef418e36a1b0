// `npm run bench:hints`: how soon an inlay hint for a line appears after typing it, over a real
// LSP connection to the bundled server (dist/server.js --stdio), as the editor sees it.
//
// Workspace: a temporary copy of allocator/ plus one generated file of at least 3,000 lines
// (renamed copies of quill's tiny, malloc and mid paths, as in bench:index). The file is opened,
// then N = 20 times: a new atomic is typed one keystroke per character into a line inside a
// function, and the clock runs from the last keystroke until an inlay-hint response holds a hint
// for that line (the request is sent right away and repeated until it does). Prints the median,
// p90 and max against the 300 ms target; exit status 1 when any run misses it.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DidChangeTextDocumentNotification, DidOpenTextDocumentNotification, InlayHintRequest } from 'vscode-languageserver-protocol/node';
import { startServer } from '../test/support/lspClient';

const ROOT = process.cwd();
const RUNS = 20;
const BIG_LINES = 3000;
const TARGET_MS = 300;

function rename(text: string, i: number): string {
  return text.replace(/quill/g, `m${i}q`).replace(/QUILL/g, `M${i}Q`);
}

function bigFile(): string {
  const donors = ['quill_tiny.c', 'quill_malloc.c', 'quill_mid.c'].map((f) => readFileSync(path.join(ROOT, 'allocator', 'src', f), 'utf8'));
  const parts: string[] = [];
  for (let k = 0; parts.join('\n').split('\n').length < BIG_LINES; k++) parts.push(rename(donors[k % donors.length], 9000 + k));
  return parts.join('\n');
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};

async function main(): Promise<number> {
  if (!existsSync(path.join(ROOT, 'dist', 'server.js'))) throw new Error('dist/server.js is missing: run `node esbuild.mjs` first (npm run bench:hints does)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alloc-lens-bench-hints-'));
  const session = await (async () => {
    cpSync(path.join(ROOT, 'allocator'), dir, { recursive: true, filter: (src) => !/\/(build|out)(\/|$)/.test(src) });
    mkdirSync(path.join(dir, 'big'), { recursive: true });
    writeFileSync(path.join(dir, 'big', 'hot_paths.c'), bigFile());
    return startServer(dir, {}, { capabilities: { workspace: { configuration: true, workspaceFolders: true }, textDocument: { inlayHint: {} } } });
  })();
  try {
    await session.waitForState((s) => s.state === 'ready', 60_000);
    const file = path.join(dir, 'big', 'hot_paths.c');
    const uri = pathToFileURL(file).href;
    const lines = readFileSync(file, 'utf8').split('\n');
    process.stdout.write(`workspace: allocator/ + big/hot_paths.c (${lines.length} lines), ${session.states.at(-1)?.files} files indexed\n`);
    let version = 1;
    await session.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'c', version, text: lines.join('\n') } });
    const visible = { start: { line: 0, character: 0 }, end: { line: lines.length + RUNS, character: 0 } };
    // Warm-up: the first answer waits for the open document's analysis.
    await session.connection.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: visible });

    // Lines inside function bodies, spread over the file, to type after.
    const anchors = lines.map((l, i) => (/^\s+bin->count--;\s*$/.test(l) ? i : -1)).filter((i) => i >= 0);
    if (anchors.length < 2) throw new Error('no anchor lines in the generated file');
    const times: number[] = [];
    const requests: number[] = [];
    let inserted = 0;
    for (let run = 0; run < RUNS; run++) {
      // Anchor line numbers move down by one per earlier insertion above them.
      const pick = anchors[Math.floor((run * anchors.length) / RUNS)];
      const line = pick + timesAbove(pick, anchors, run) + 1;
      const indent = lines[pick].match(/^\s*/)![0];
      // Open a new empty line, then type the atomic one character per change.
      await session.connection.sendNotification(DidChangeTextDocumentNotification.type, {
        textDocument: { uri, version: ++version },
        contentChanges: [{ range: { start: { line, character: 0 }, end: { line, character: 0 } }, text: `${indent}\n` }],
      });
      const typed = `atomic_fetch_add_explicit(&g_bench_edit_${run}, 1, memory_order_relaxed);`;
      let lastKey = 0;
      for (let c = 0; c < typed.length; c++) {
        const character = indent.length + c;
        lastKey = performance.now();
        await session.connection.sendNotification(DidChangeTextDocumentNotification.type, {
          textDocument: { uri, version: ++version },
          contentChanges: [{ range: { start: { line, character }, end: { line, character } }, text: typed[c] }],
        });
      }
      inserted++;
      let attempt = 1;
      for (; ; attempt++) {
        const hints = (await session.connection.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: visible })) ?? [];
        // The hint of the new atomic itself (its tooltip names the target), not one that moved there.
        if (hints.some((h) => h.position.line === line && JSON.stringify(h.tooltip ?? '').includes(`g_bench_edit_${run}\``))) break;
        if (attempt > 200) throw new Error(`no hint for line ${line + 1} after ${attempt} requests`);
      }
      times.push(performance.now() - lastKey);
      requests.push(attempt);
    }
    const median = quantile(times, 0.5);
    const p90 = quantile(times, 0.9);
    const max = Math.max(...times);
    // Every run must make it, not just most: the target is what each keystroke feels.
    const ok = max <= TARGET_MS;
    process.stdout.write(`typed ${inserted} atomics (${RUNS} runs), last keystroke → inlay hint for that line:\n`);
    process.stdout.write(`  median ${median.toFixed(1)} ms, p90 ${p90.toFixed(1)} ms, max ${max.toFixed(1)} ms  (target: every run ≤ ${TARGET_MS} ms: ${ok ? 'PASS' : 'FAIL'})\n`);
    process.stdout.write(`  runs (ms): ${times.map((t) => t.toFixed(0)).join(' ')}\n`);
    process.stdout.write(`  inlay-hint requests until the hint was there: ${requests.join(' ')} (1 = the first answer after typing had it)\n`);
    return ok ? 0 : 1;
  } finally {
    await session.close().catch(() => session.process.kill('SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** How many of the earlier runs' insertions sit above `pick` (each added one line). */
function timesAbove(pick: number, anchors: number[], run: number): number {
  let n = 0;
  for (let r = 0; r < run; r++) if (anchors[Math.floor((r * anchors.length) / RUNS)] <= pick) n++;
  return n;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`bench:hints failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
