// Plain file edits, the shape every core/edits producer returns: offsets into the text the edit
// was computed on, plus that text's version. The server turns them into a versioned LSP
// WorkspaceEdit; the CLI and the tests apply them with `applyTextEdits`.
import type { Tree } from 'web-tree-sitter';
import { computeLineStarts } from '../analysis/facts';
import { scanPreprocessor, type PpFacts } from '../analysis/preprocessor';
import type { CParser } from '../parsing/cParser';

/** Replaces text[start, end) (UTF-16 offsets) with newText. */
export interface TextEdit {
  start: number;
  end: number;
  newText: string;
}

export interface FileEdit {
  /** Relative to the workspace folder, with forward slashes. */
  file: string;
  /** The version of the text the offsets refer to: an open document's, or null for a file on disk. */
  version: number | null;
  /** The file does not exist yet: create it, then apply the edits to the empty text. */
  create?: boolean;
  /** Sorted by offset, never overlapping. */
  edits: TextEdit[];
}

/** The text of a file and the version it belongs to (what the editor will check before applying). */
export interface SourceText {
  text: string;
  version: number | null;
  /** The file's directives when the caller already has them (the index does). */
  pp?: PpFacts;
}

/** What edits are computed from: the folder's C files, by relative path. */
export interface EditSource {
  /** Every C file of the workspace folder, relative, with forward slashes. */
  files(): readonly string[];
  /** The current text; undefined when the file cannot be read (or does not exist). */
  read(file: string): SourceText | undefined;
}

/** Applies non-overlapping edits (in any order) to a text. */
export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  let out = '';
  let at = 0;
  for (const e of sorted) {
    if (e.start < at) throw new Error(`overlapping edits at offset ${e.start}`);
    out += text.slice(at, e.start) + e.newText;
    at = e.end;
  }
  return out + text.slice(at);
}

/** Line arithmetic over one text: 1-based lines, UTF-16 offsets, the file's own line ending. */
export class Lines {
  readonly starts: number[];
  /** The dominant line ending, so CRLF files stay CRLF. */
  readonly eol: '\n' | '\r\n';

  constructor(readonly text: string) {
    this.starts = computeLineStarts(text);
    let crlf = 0;
    for (let i = 1; i < this.starts.length; i++) if (text.charCodeAt(this.starts[i] - 2) === 13) crlf++;
    this.eol = crlf * 2 > this.starts.length - 1 && crlf > 0 ? '\r\n' : '\n';
  }

  get count(): number {
    return this.starts.length;
  }

  start(line: number): number {
    return this.starts[Math.min(Math.max(line, 1), this.starts.length) - 1];
  }

  /** The offset where the line's content ends (before `\r\n` or `\n`). */
  contentEnd(line: number): number {
    if (line >= this.starts.length) return this.text.length;
    let e = this.starts[line] - 1;
    if (e > 0 && this.text.charCodeAt(e - 1) === 13) e--;
    return Math.max(e, this.start(line));
  }

  /** 1-based line of an offset. */
  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  content(line: number): string {
    return this.text.slice(this.start(line), this.contentEnd(line));
  }

  indent(line: number): string {
    return /^[ \t]*/.exec(this.content(line))![0];
  }

  isBlank(line: number): boolean {
    return this.content(line).trim() === '';
  }

  /** The offset of a 1-based line and column. */
  offset(line: number, column: number): number {
    return this.start(line) + column - 1;
  }
}

/** One indentation step of the file: a tab, or the most common positive step between lines. */
export function indentUnit(lines: Lines): string {
  const steps = new Map<number, number>();
  let tabs = 0;
  let spaces = 0;
  let prev = -1;
  for (let l = 1; l <= lines.count; l++) {
    const c = lines.content(l);
    if (!c.trim()) continue;
    const ind = /^[ \t]*/.exec(c)![0];
    if (ind.startsWith('\t')) tabs++;
    else if (ind) spaces++;
    if (!ind.includes('\t')) {
      if (prev >= 0 && ind.length > prev) steps.set(ind.length - prev, (steps.get(ind.length - prev) ?? 0) + 1);
      prev = ind.length;
    }
  }
  if (tabs > spaces) return '\t';
  let best = 4;
  let bestCount = 0;
  for (const [k, n] of steps) if (n > bestCount || (n === bestCount && k < best)) [best, bestCount] = [k, n];
  return ' '.repeat(best);
}

/** A source file as the edit planners see it: text, lines, directives and a tree on demand. */
export interface ParsedFile {
  file: string;
  text: string;
  version: number | null;
  lines: Lines;
  pp: PpFacts;
  tree(): Tree;
}

/**
 * The files one plan reads, each read and parsed at most once. Trees live in wasm memory:
 * `dispose()` deletes them, so a planner always ends with it (try/finally).
 */
export class FileCache {
  private readonly files = new Map<string, ParsedFile | null>();
  private readonly trees: Tree[] = [];

  constructor(
    readonly source: EditSource,
    private readonly parser: CParser,
  ) {}

  get(file: string): ParsedFile | undefined {
    let f = this.files.get(file);
    if (f === undefined) {
      const src = this.source.read(file);
      f = src ? this.make(file, src) : null;
      this.files.set(file, f);
    }
    return f ?? undefined;
  }

  /** Parses a snippet (a macro body); the tree is deleted with the cache. */
  parseSnippet(text: string): Tree {
    const t = this.parser.parse(text);
    this.trees.push(t);
    return t;
  }

  dispose(): void {
    for (const t of this.trees.splice(0)) t.delete();
    this.files.clear();
  }

  private make(file: string, src: SourceText): ParsedFile {
    let tree: Tree | undefined;
    return {
      file,
      text: src.text,
      version: src.version,
      lines: new Lines(src.text),
      pp: src.pp ?? scanPreprocessor(src.text),
      tree: () => {
        if (!tree) {
          tree = this.parser.parse(src.text);
          this.trees.push(tree);
        }
        return tree;
      },
    };
  }
}
