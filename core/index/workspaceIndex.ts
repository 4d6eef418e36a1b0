import type { Tree } from 'web-tree-sitter';
import type { AnalysisOptions } from '../analysis/options';
import type { AtomicReport, AuditReport, Finding } from '../analysis/report';
import { WorkspaceAnalysis } from '../analysis/workspaceAnalysis';
import type { FileFacts } from '../analysis/facts';
import type { PpFacts } from '../analysis/preprocessor';
import type { CParser } from '../parsing/cParser';
import type { FileScan } from '../parsing/scan';

/** What the index needs from the outside world; the server and CLI pass a Node host, tests a fake. */
export interface IndexHost {
  /** Absolute paths of files under `root` matching `include` and not `exclude`, sorted. */
  listFiles(root: string, include: readonly string[], exclude: readonly string[]): Promise<string[]>;
  fileSize(path: string): Promise<number>;
  readFile(path: string): Promise<string>;
  now(): number;
  /** Lets other work run (the server's message loop); called between time slices. */
  yieldToEventLoop(): Promise<void>;
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
    const next = new Map<string, IndexedFile>();
    // A separate analysis for the run, swapped in only when it completes (cancel keeps the old).
    const analysis = new WorkspaceAnalysis(parser);
    const skipped = { overCap: 0, tooLarge: 0, unreadable: 0 };
    let sliceStart = host.now();

    for (const { root, limits } of roots) {
      const listed = await host.listFiles(root, limits.include, limits.exclude);
      if (listed.length > limits.maxFiles) {
        skipped.overCap += listed.length - limits.maxFiles;
        log?.(`${root}: ${listed.length} files match; indexing the first ${limits.maxFiles} (allocLens.index.maxFiles)`);
      }
      for (const path of listed.slice(0, limits.maxFiles)) {
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
        next.set(path, { path, bytes, ...scanOf(analysis.setFile(path, text)) });
      }
    }
    if (signal?.aborted) throw new IndexCancelledError();
    // Files the prefilter skipped but that name a function or counter of the parsed ones.
    analysis.secondRound();
    for (const [path, f] of next) if (!f.functions) next.set(path, { ...f, ...scanOf(analysis.facts(path)) });

    this.files.clear();
    for (const [k, v] of next) this.files.set(k, v);
    this.analysis = analysis;
    this.roots = roots.map((r) => r.root);
    this.skipped = skipped;
    this.durationMs = host.now() - started;
    this.complete = true;
    return this.summary();
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

function scanOf(facts: FileFacts | null): FileScan {
  if (!facts) return { functions: 0, atomicCalls: 0, getenvCalls: 0, errorLines: [] };
  return {
    functions: facts.functions.length,
    atomicCalls: facts.atomics.filter((a) => !a.viaOperator).length,
    getenvCalls: facts.getenvs.length,
    errorLines: [...facts.errorLines].sort((a, b) => a - b),
  };
}
