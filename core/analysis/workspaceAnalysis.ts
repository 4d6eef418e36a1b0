// The stateful side of the analysis: per-file facts kept by path, recomputed only for the file that
// changed, and a report that is rebuilt from them on demand (and cached until the next change).
//
// Prefilter: the preprocessor scan (cheap, line based) runs on every file; tree-sitter only runs
// on files whose text can matter: those that mention an atomic builtin, _Atomic, getenv or
// setenv, and then, in a second round, files that mention a name the first round found
// interesting (a non-static function, a wrapper macro, a counter).
import * as path from 'node:path';
import type { Tree } from 'web-tree-sitter';
import type { CParser } from '../parsing/cParser';
import { AnalysisModel } from './analyze';
import { FlatTree, flatLanguage, type FlatArrays } from '../parsing/flatTree';
import { computeLineStarts, emptyFileFacts, extractFacts, extractFlatFacts, extractItemFacts, mergeFacts, shiftFacts, type ExtractOptions, type FileFacts } from './facts';
import { extractOptions, type AnalysisOptions } from './options';
import { scanPreprocessor, type PpFacts } from './preprocessor';
import type { AtomicReport, AuditReport, Finding } from './report';

interface Entry {
  path: string;
  text: string;
  pp: PpFacts;
  facts: FileFacts | null;
  /** Bumped on every change, so models know what to resync. */
  version: number;
  /** Identifier tokens of a file the first round did not parse. */
  tokens?: Set<string>;
}

interface ModelState {
  model: AnalysisModel;
  versions: Map<string, number>;
  /** Each path's name relative to the root, or null when it is not under it. */
  names: Map<string, string | null>;
}

const FIRST_ROUND = /\b(?:atomic_\w+|__atomic_\w+|__sync_\w+|_Atomic|getenv|secure_getenv|setenv)\b/;

export function mayMatter(text: string): boolean {
  return FIRST_ROUND.test(text);
}

const extractOptionsByParser = new WeakMap<CParser, ExtractOptions>();

/**
 * Parses `text` and extracts its facts; never throws (broken input gives empty facts). The main
 * thread and the index workers (core/host/indexWorker.ts) both extract through here.
 */
export function factsOfText(parser: CParser, text: string): FileFacts {
  let tree: Tree | undefined;
  try {
    tree = parser.parse(text);
    return extractFacts(tree, text, optionsFor(parser));
  } catch {
    return emptyFileFacts();
  } finally {
    tree?.delete();
  }
}

/** factsOfText for a tree an index worker parsed and sent as a flat copy. */
export function factsOfFlat(parser: CParser, text: string, arrays: FlatArrays): FileFacts {
  try {
    return extractFlatFacts(FlatTree.fromArrays(text, flatLanguage(parser.language), arrays), optionsFor(parser));
  } catch {
    return emptyFileFacts();
  }
}

function optionsFor(parser: CParser): ExtractOptions {
  let options = extractOptionsByParser.get(parser);
  if (!options) extractOptionsByParser.set(parser, (options = { ...extractOptions(), parseSnippet: (t) => parser.parse(t) }));
  return options;
}

export class WorkspaceAnalysis {
  private readonly entries = new Map<string, Entry>();
  /** Reports by root and options; any file change clears it. */
  private readonly cache = new Map<string, AuditReport>();
  /** Incremental models by root and options. */
  private readonly models = new Map<string, ModelState>();
  private version = 0;
  /** Facts of each top-level item of the files edited with a tree, by item text. */
  private readonly items = new Map<string, Map<string, { line: number; facts: FileFacts }>>();
  /** Set when a file without facts appears or a parsed file's names change: the second round reruns. */
  private namesDirty = true;
  private readonly extract: ExtractOptions;

  constructor(private readonly parser: CParser) {
    this.extract = { ...extractOptions(), parseSnippet: (t) => this.parser.parse(t) };
  }

  /**
   * Records a file's new text. Pass the already (incrementally) parsed tree when there is one, so
   * nothing is parsed twice; the caller keeps ownership of that tree. Never throws on odd input.
   */
  setFile(file: string, text: string, tree?: Tree): FileFacts | null {
    const pp = safePreprocessor(text);
    let facts: FileFacts | null = null;
    if (tree || this.wouldParse(file, text)) facts = tree ? this.itemFacts(file, tree, text) : this.parseFacts(text);
    return this.setFileFacts(file, text, facts, pp);
  }

  /** Whether setFile parses this text without a tree: the prefilter (or the file was parsed before). */
  wouldParse(file: string, text: string): boolean {
    return mayMatter(text) || !!this.entries.get(file)?.facts;
  }

  /**
   * Records a file whose facts were extracted elsewhere (an index worker, with factsOfText), or
   * null when the prefilter skipped it.
   */
  setFileFacts(file: string, text: string, facts: FileFacts | null, pp: PpFacts = safePreprocessor(text)): FileFacts | null {
    const previous = this.entries.get(file);
    if (!facts || !previous?.facts || namesOf(previous.facts) !== namesOf(facts)) this.namesDirty = true;
    this.entries.set(file, { path: file, text, pp, facts, version: ++this.version });
    this.cache.clear();
    return facts;
  }

  removeFile(file: string): void {
    this.items.delete(file);
    if (this.entries.delete(file)) this.cache.clear();
  }

  /** Re-extracts only the top-level items an edit touched; the others come from the last run. */
  private itemFacts(file: string, tree: Tree, text: string): FileFacts {
    try {
      const previous = this.items.get(file) ?? new Map<string, { line: number; facts: FileFacts }>();
      const next = new Map<string, { line: number; facts: FileFacts }>();
      const lineStarts = computeLineStarts(text);
      const parts: FileFacts[] = [];
      for (const item of tree.rootNode.children) {
        if (!item || item.type === 'comment') continue;
        const key = text.slice(item.startIndex, item.endIndex);
        const line = item.startPosition.row + 1;
        const hit = previous.get(key) ?? next.get(key);
        let facts: FileFacts;
        if (hit) facts = hit.line === line ? hit.facts : shiftFacts(hit.facts, line - hit.line);
        else facts = extractItemFacts(item, text, this.extract, lineStarts);
        next.set(key, { line, facts });
        parts.push(facts);
      }
      this.items.set(file, next);
      return mergeFacts(parts);
    } catch {
      this.items.delete(file);
      return this.factsFromTree(tree, text);
    }
  }

  clear(): void {
    this.entries.clear();
    this.cache.clear();
    this.models.clear();
  }

  facts(file: string): FileFacts | null {
    return this.entries.get(file)?.facts ?? null;
  }

  /** The text the analysis holds for a file (an open document's, unsaved) and its directives. */
  source(file: string): { text: string; pp: PpFacts } | null {
    const e = this.entries.get(file);
    return e ? { text: e.text, pp: e.pp } : null;
  }

  /** Parsed-file count, for the benchmark and the log. */
  stats(): { files: number; parsed: number } {
    let parsed = 0;
    for (const e of this.entries.values()) if (e.facts) parsed++;
    return { files: this.entries.size, parsed };
  }

  /** The atomics and findings of one file (under `root`), without redoing the other files. */
  fileReport(options: AnalysisOptions, root: string, file: string): { atomics: AtomicReport[]; findings: Finding[] } | null {
    const state = this.syncModel(options, root);
    return state.model.fileResult(path.relative(root, file).split(path.sep).join('/'));
  }

  /** The report for the files under `root` (all files when omitted). */
  report(options: AnalysisOptions, root?: string): AuditReport {
    const key = `${root ?? ''}\0${JSON.stringify(options)}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    let report: AuditReport;
    try {
      const state = this.syncModel(options, root);
      report = state.model.report(root ?? '');
    } catch (err) {
      // The analysis must never take the server down; report the failure as a skipped root.
      this.models.delete(key);
      const files = [...this.entries.values()].filter((e) => !root || isUnder(e.path, root)).length;
      report = { version: 1, root: root ?? '', files, atomics: [], envGates: [], flags: [], inactiveRegions: [], findings: [], skipped: [{ file: '.', reason: `analysis failed: ${err instanceof Error ? err.message : String(err)}` }] };
    }
    this.cache.set(key, report);
    return report;
  }

  /** Parses files that name something the parsed files made interesting. */
  /** The incremental model for (root, options), with every changed file handed to it. */
  private syncModel(options: AnalysisOptions, root?: string): ModelState {
    this.secondRound();
    const key = `${root ?? ''}\0${JSON.stringify(options)}`;
    let state = this.models.get(key);
    if (!state) this.models.set(key, (state = { model: new AnalysisModel(options), versions: new Map(), names: new Map() }));
    const names = state.names;
    const present = new Set<string>();
    for (const e of this.entries.values()) {
      let name = names.get(e.path);
      if (name === undefined) {
        name = root ? (isUnder(e.path, root) ? path.relative(root, e.path).split(path.sep).join('/') : null) : e.path;
        names.set(e.path, name);
      }
      if (name === null) continue;
      present.add(name);
      if (state.versions.get(name) === e.version) continue;
      state.model.setFile({ file: name, pp: e.pp, facts: e.facts });
      state.versions.set(name, e.version);
    }
    for (const name of [...state.versions.keys()]) {
      if (present.has(name)) continue;
      state.model.removeFile(name);
      state.versions.delete(name);
    }
    return state;
  }

  /**
   * Parses the files the first round skipped that mention a name the parsed files made
   * interesting (a function, a wrapper macro, a counter, an entry point), until nothing changes.
   */
  secondRound(): void {
    if (!this.namesDirty) return;
    this.namesDirty = false;
    for (let round = 0; round < 4; round++) {
      const hits = this.secondRoundHits();
      if (!hits.length) return;
      for (const e of hits) this.addSecondRound(e, this.parseFacts(e.text));
    }
  }

  /** The same rounds, for indexAll: each round's files are extracted by `extract` (index workers). */
  async secondRoundWith(extract: (texts: string[]) => Promise<FileFacts[]>): Promise<void> {
    if (!this.namesDirty) return;
    this.namesDirty = false;
    for (let round = 0; round < 4; round++) {
      const hits = this.secondRoundHits();
      if (!hits.length) return;
      const facts = await extract(hits.map((e) => e.text));
      hits.forEach((e, i) => this.addSecondRound(e, facts[i]));
    }
  }

  /** The unparsed files that mention a name the parsed files make interesting. */
  private secondRoundHits(): Entry[] {
    // Names another file can refer to: non-static functions (the definitions of entry points
    // call them, so those files come in too), wrapper macros, counters. Files that only *call*
    // malloc or free (benchmarks, tools) stay unparsed.
    const names = new Set<string>();
    for (const e of this.entries.values()) {
      if (!e.facts) continue;
      for (const f of e.facts.functions) if (!f.isStatic && f.name !== 'main') names.add(f.name);
      for (const m of e.facts.macros) names.add(m.name);
      for (const a of e.facts.atomics) if (a.key && !a.viaOperator) names.add(a.key.root);
    }
    const hits: Entry[] = [];
    for (const e of this.entries.values()) {
      if (e.facts) continue;
      // Identifier tokens of the file (a lexer's view, kept until the file changes).
      e.tokens ??= new Set(e.text.match(/[A-Za-z_]\w*/g) ?? []);
      for (const t of e.tokens) {
        if (names.has(t)) {
          hits.push(e);
          break;
        }
      }
    }
    return hits;
  }

  private addSecondRound(e: Entry, facts: FileFacts): void {
    e.facts = facts;
    e.tokens = undefined;
    e.version = ++this.version;
  }

  private parseFacts(text: string): FileFacts {
    return factsOfText(this.parser, text);
  }

  private factsFromTree(tree: Tree, text: string): FileFacts {
    try {
      return extractFacts(tree, text, this.extract);
    } catch {
      return emptyFileFacts();
    }
  }
}

export function safePreprocessor(text: string): PpFacts {
  try {
    return scanPreprocessor(text);
  } catch {
    return { directives: [], conditionals: [], defaults: [], defines: [], uses: [], includeGuard: null, problems: [{ line: 1, message: 'preprocessor scan failed' }], defaulted: [], lastLine: 1 };
  }
}



function isUnder(file: string, root: string): boolean {
  const rel = path.relative(root, file);
  return !!rel && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** The names a parsed file makes interesting to the second round. */
function namesOf(facts: FileFacts): string {
  return [...facts.functions.map((f) => f.name), ...facts.macros.map((m) => m.name), ...facts.atomics.filter((a) => a.key && !a.viaOperator).map((a) => a.key!.root)].join(',');
}
