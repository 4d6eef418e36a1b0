// Index worker threads for the Node host (the server and the CLI): see core/index/factsPool.ts.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FactsReply, FactsWorkerPort } from '../index/factsPool';
import type { CParserOptions } from '../parsing/cParser';

/**
 * How many worker threads to start: one per core beyond this thread's, at most 3 (each holds its
 * own wasm heap). ALLOC_LENS_INDEX_WORKERS overrides it; 0 parses on this thread only.
 */
export function indexWorkerCount(): number {
  const forced = process.env.ALLOC_LENS_INDEX_WORKERS;
  if (forced !== undefined && /^\d+$/.test(forced)) return Math.min(Number(forced), 8);
  return Math.max(0, Math.min(availableParallelism() - 1, 3));
}

/**
 * The worker script: next to the bundle (dist/indexWorker.js), or the TypeScript source when run
 * from source by tsx (tests), loaded through tsx's require hook (a worker does not inherit it).
 */
function workerScript(): { file: string; evalSource?: string } | null {
  const bundled = path.join(__dirname, 'indexWorker.js');
  if (existsSync(bundled)) return { file: bundled };
  const source = path.join(__dirname, 'indexWorker.ts');
  if (!existsSync(source)) return null;
  try {
    const tsx = require.resolve('tsx/cjs');
    return { file: source, evalSource: `require(${JSON.stringify(tsx)}); require(${JSON.stringify(source)});` };
  } catch {
    return null;
  }
}

/** Starts one index worker thread, or returns null when there is no worker script to run. */
export function spawnIndexWorker(wasm: CParserOptions): FactsWorkerPort | null {
  const script = workerScript();
  if (!script) return null;
  // No inherited flags (the server may run under --inspect), and the worker's stdout goes nowhere:
  // the language server's stdout is the LSP pipe.
  const worker = script.evalSource
    ? new Worker(script.evalSource, { eval: true, workerData: { wasm }, execArgv: [], stdout: true, stderr: false })
    : new Worker(script.file, { workerData: { wasm }, execArgv: [], stdout: true, stderr: false });
  worker.stdout.resume();
  const exitListeners: ((error: Error) => void)[] = [];
  let exited = false;
  const exit = (error: Error) => {
    if (exited) return;
    exited = true;
    for (const l of exitListeners) l(error);
  };
  worker.on('error', (err) => exit(err instanceof Error ? err : new Error(String(err))));
  worker.on('exit', (code) => exit(new Error(`index worker exited with code ${code}`)));
  return {
    send: (job) => worker.postMessage(job),
    onReply: (listener) => worker.on('message', (reply: FactsReply) => listener(reply)),
    onExit: (listener) => exitListeners.push(listener),
    terminate: async () => {
      await worker.terminate();
    },
  };
}
