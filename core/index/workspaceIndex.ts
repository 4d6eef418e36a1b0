import type { Tree } from 'web-tree-sitter';
import type { AnalysisOptions } from '../analysis/options';
import type { AtomicReport, AuditReport, Finding } from '../analysis/report';
import { WorkspaceAnalysis, factsOfFlat, factsOfText, safePreprocessor } from '../analysis/workspaceAnalysis';
import type { FileFacts } from '../analysis/facts';
import type { PpFacts } from '../analysis/preprocessor';
import type { CParser, CParserOptions } from '../parsing/cParser';
import type { FileScan } from '../parsing/scan';
import { FactsPool, type FactsWorkerPort } from './factsPool';

/** What the index needs from the outside world; the server and CLI pass a Node host, tests a fake. */
export interface IndexHost {
  /** Absolute paths of files under `root` matching `include` and not `exclude`, sorted. */
  listFiles(root: string, include: readonly string[], exclude: readonly string[]): Promise<string[]>;
  fileSize(path: string): Promise<number>;
  readFile(path: string): Promise<string>;
  now(): number;
  /** Lets other work run (the server's message loop); called between time slices. */
  yieldToEventLoop(): Promise<void>;
  /**
   * Optional: threads that parse and extract facts while this one reads (core/index/factsPool.ts).
   * Without them, or if they fail, this thread parses everything.
   */
  startIndexWorkers?(wasm: CParserOptions): FactsWorkerPort[];
}

export interface IndexLimits {
  include: readonly string[];
  exclude: readonly string[];
  maxFiles: number;
  maxFileSizeKB: number;
}

export interface IndexRoot {
  root: string;
  limits: IndexLimits;
}

export interface IndexedFile extends FileScan {
  path: string;
  bytes: number;
}

export interface IndexSummary {
  roots: string[];
  files: number;
  /** Files tree-sitter parsed; the others hold no atomic, getenv or name that matters. */
  parsedFiles: number;
  functions: number;
  atomicCalls: number;
  getenvCalls: number;
  filesWithErrors: number;
  skipped: { overCap: number; tooLarge: number; unreadable: number };
  /** Wall time of the last full run, in ms. */
  durationMs: number;
  complete: boolean;
  perFile: IndexedFile[];
}

export interface WorkspaceIndexOptions {
  parser: CParser;
  host: IndexHost;
  /** Milliseconds of parsing between yields to the event loop. */
  sliceMs?: number;
  /** Index workers (IndexHost.startIndexWorkers) only for runs of at least this many files (128). */
  minFilesForWorkers?: number;
  log?: (message: string) => void;
}

export class IndexCancelledError extends Error {
  constructor() {
    super('indexing was cancelled');
  }
}

/**
 * The workspace-wide file table. A full run is capped (maxFiles, maxFileSizeKB), time-sliced
 * (yields every `sliceMs`) and cancellable (AbortSignal); open documents overlay it through
 * `updateFile`, so the summary follows the editor between runs.
 */
export class WorkspaceIndex {
  private readonly files = new Map<string, IndexedFile>();
  private analysis: WorkspaceAnalysis;
  private roots: string[] = [];
  private skipped = { overCap: 0, tooLarge: 0, unreadable: 0 };
  private durationMs = 0;
  private complete = false;
  private readonly sliceMs: number;

  constructor(private readonly options: WorkspaceIndexOptions) {
    this.sliceMs = options.sliceMs ?? 15;
    this.analysis = new WorkspaceAnalysis(options.parser);
  }

  async indexAll(roots: readonly IndexRoot[], signal?: AbortSignal): Promise<IndexSummary> {
    const { host, parser, log } = this.options;
    const started = host.now();
    // A separate analysis for the run, swapped in only when it completes (cancel keeps the old).
    const analysis = new WorkspaceAnalysis(parser);
    const skipped = { overCap: 0, tooLarge: 0, unreadable: 0 };
    const read: { path: string; bytes: number; text: string; pp: PpFacts; facts: FileFacts | null | Promise<FileFacts> }[] = [];
    let pool: FactsPool | null = null;
    try {
      const listings: { limits: IndexLimits; paths: string[] }[] = [];
      for (const { root, limits } of roots) {
        const listed = await host.listFiles(root, limits.include, limits.exclude);
        if (listed.length > limits.maxFiles) {
          skipped.overCap += listed.length - limits.maxFiles;
          log?.(`${root}: ${listed.length} files match; indexing the first ${limits.maxFiles} (allocLens.index.maxFiles)`);
        }
        listings.push({ limits, paths: listed.slice(0, limits.maxFiles) });
      }
      // Starting a worker (a thread, the wasm, the JIT) costs about as much as parsing a hundred
      // files: small workspaces are parsed on this thread.
      const total = listings.reduce((n, l) => n + l.paths.length, 0);
      if (total >= (this.options.minFilesForWorkers ?? 128)) {
        const ports = host.startIndexWorkers?.(parser.wasm) ?? [];
        if (ports.length) pool = new FactsPool(ports, (text, reply) => (reply.flat ? factsOfFlat(parser, text, reply.flat) : factsOfText(parser, text)));
      }
      let sliceStart = host.now();
      // Facts on this thread: jobs the workers have not started yet, or every file without workers.
      const extractHere = (text: string) => factsOfText(parser, text);
      const helpWorkers = async () => {
        for (let job = pool?.queued ? pool.steal() : undefined; job; job = pool!.queued > 1 ? pool!.steal() : undefined) {
          job.complete(extractHere(job.text));
          if (signal?.aborted) throw new IndexCancelledError();
          // Let the workers' replies in, so they get their next jobs.
          await host.yieldToEventLoop();
          sliceStart = host.now();
        }
      };

      for (const { limits, paths } of listings) {
        for (const path of paths) {
          if (signal?.aborted) throw new IndexCancelledError();
          if (host.now() - sliceStart >= this.sliceMs) {
            await host.yieldToEventLoop();
            sliceStart = host.now();
          }
          let bytes: number;
          let text: string;
          try {
            bytes = await host.fileSize(path);
            if (bytes > limits.maxFileSizeKB * 1024) {
              skipped.tooLarge++;
              continue;
            }
            text = await host.readFile(path);
          } catch (err) {
            skipped.unreadable++;
            log?.(`cannot read ${path}: ${String(err)}`);
            continue;
          }
          const pp = safePreprocessor(text);
          let facts: FileFacts | null | Promise<FileFacts> = null;
          if (analysis.wouldParse(path, text)) facts = pool ? quiet(pool.extract(text)) : extractHere(text);
          read.push({ path, bytes, text, pp, facts });
          // Workers busy: this thread takes the newest job back rather than wait.
          if (pool && pool.queued > 1) await helpWorkers();
        }
      }
      if (pool) await this.drain(pool, extractHere, signal);
      if (signal?.aborted) throw new IndexCancelledError();
      for (const r of read) analysis.setFileFacts(r.path, r.text, r.facts === null ? null : await r.facts, r.pp);
      // Files the prefilter skipped but that name a function or counter of the parsed ones.
      if (pool) {
        const p = pool;
        await analysis.secondRoundWith(async (texts) => {
          const facts = texts.map((t) => quiet(p.extract(t)));
          await this.drain(p, extractHere, signal);
          return Promise.all(facts);
        });
      } else analysis.secondRound();
    } catch (err) {
      if (signal?.aborted) throw new IndexCancelledError();
      throw err;
    } finally {
      await pool?.close();
    }
    if (signal?.aborted) throw new IndexCancelledError();
    const next = new Map<string, IndexedFile>();
    for (const r of read) next.set(r.path, { path: r.path, bytes: r.bytes, ...scanOf(analysis.facts(r.path)) });

    this.files.clear();
    for (const [k, v] of next) this.files.set(k, v);
    this.analysis = analysis;
    this.roots = roots.map((r) => r.root);
    this.skipped = skipped;
    this.durationMs = host.now() - started;
    this.complete = true;
    return this.summary();
  }

  /** Waits for the workers' jobs, running queued ones on this thread meanwhile. */
  private async drain(pool: FactsPool, extractHere: (text: string) => FileFacts, signal?: AbortSignal): Promise<void> {
    while (pool.pending) {
      if (signal?.aborted) throw new IndexCancelledError();
      const job = pool.steal();
      if (job) {
        job.complete(extractHere(job.text));
        await this.options.host.yieldToEventLoop();
      } else if (!pool.workers) {
        // Nothing queued and no worker left: cannot happen (lost jobs are queued again).
        break;
      } else await Promise.race([pool.progress(), abortOf(signal)]);
    }
  }

  /**
   * Overlays an edited (possibly unsaved) file. Pass the document's incrementally parsed tree
   * when there is one; the caller keeps it.
   */
  updateFile(path: string, text: string, tree?: Tree): void {
    this.files.set(path, { path, bytes: Buffer.byteLength(text), ...scanOf(this.analysis.setFile(path, text, tree)) });
  }

  removeFile(path: string): void {
    this.files.delete(path);
    this.analysis.removeFile(path);
  }

  /** The analysis of the files under `root`, cached until a file changes. */
  report(options: AnalysisOptions, root?: string): AuditReport {
    return this.analysis.report(options, root);
  }

  /** The analysis of one file under `root` (its atomics and findings), without the rest. */
  fileReport(options: AnalysisOptions, root: string, path: string): { atomics: AtomicReport[]; findings: Finding[] } | null {
    return this.analysis.fileReport(options, root, path);
  }

  facts(path: string): FileFacts | null {
    return this.analysis.facts(path);
  }

  /** The indexed text of a file (an open document's, unsaved) and its directives: what edits are computed on. */
  source(path: string): { text: string; pp: PpFacts } | null {
    return this.analysis.source(path);
  }

  summary(): IndexSummary {
    const perFile = [...this.files.values()].sort((a, b) => a.path.localeCompare(b.path));
    const sum = (f: (x: IndexedFile) => number) => perFile.reduce((acc, x) => acc + f(x), 0);
    return {
      roots: [...this.roots],
      files: perFile.length,
      parsedFiles: this.analysis.stats().parsed,
      functions: sum((x) => x.functions),
      atomicCalls: sum((x) => x.atomicCalls),
      getenvCalls: sum((x) => x.getenvCalls),
      filesWithErrors: perFile.filter((x) => x.errorLines.length > 0).length,
      skipped: { ...this.skipped },
      durationMs: this.durationMs,
      complete: this.complete,
      perFile,
    };
  }
}

/** The same promise, marked handled: if the run stops first, the pool rejects it and nobody waits. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** Resolves when `signal` aborts (never without one). */
function abortOf(signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

function scanOf(facts: FileFacts | null): FileScan {
  if (!facts) return { functions: 0, atomicCalls: 0, getenvCalls: 0, errorLines: [] };
  return {
    functions: facts.functions.length,
    atomicCalls: facts.atomics.filter((a) => !a.viaOperator).length,
    getenvCalls: facts.getenvs.length,
    errorLines: [...facts.errorLines].sort((a, b) => a - b),
  };
}
