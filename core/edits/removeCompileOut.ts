// The reverse of the compile-out fix: "Remove compile-out wrapper" puts the wrapped statement(s)
// (or #define) back as they were, for one wrapper or for every wrapper of its flag. When no use of
// the flag is left in the workspace, its `#ifndef FLAG / # define FLAG 0 / #endif` default goes
// too (with the comment right above it), so compile-out then remove gives back the original
// text. An #include the fix added stays: other code may need that header.
import type { Tree } from 'web-tree-sitter';
import { tokenizePp } from '../analysis/preprocessor';
import type { CParser } from '../parsing/cParser';
import { FileCache, type EditSource, type FileEdit, type ParsedFile, type TextEdit } from './textEdits';
import { wrapperAround, wrappersOf, type Wrapper } from './wrappers';

export interface RemoveCompileOutInput {
  parser: CParser;
  source: EditSource;
  /** The file and 1-based line inside the wrapper (in its #if branch). */
  file: string;
  line: number;
  /** `site`: this wrapper only; `flag`: every wrapper of its flag in the workspace. */
  scope: 'site' | 'flag';
}

export interface RemoveCompileOutPlan {
  /** null when the line is not inside a compile-out wrapper. */
  flag: string | null;
  edits: FileEdit[];
  /** The wrappers removed, by the line of their `#if`. */
  removed: { file: string; line: number; kind: Wrapper['kind'] }[];
  /** Wrappers of the flag in the workspace (all of them, including the removed ones). */
  total: number;
  /** The flag's default block, removed because nothing uses the flag any more. */
  defaultRemoved: { file: string; line: number } | null;
}

export function planRemoveCompileOut(input: RemoveCompileOutInput): RemoveCompileOutPlan {
  const cache = new FileCache(input.source, input.parser);
  try {
    return plan(input, cache);
  } finally {
    cache.dispose();
  }
}

function plan(input: RemoveCompileOutInput, cache: FileCache): RemoveCompileOutPlan {
  const empty: RemoveCompileOutPlan = { flag: null, edits: [], removed: [], total: 0, defaultRemoved: null };
  const parse = (t: string): Tree => cache.parseSnippet(t);
  const here = cache.get(input.file);
  if (!here) return empty;
  const w = wrapperAround(here, input.line, parse);
  if (!w) return empty;
  const flag = w.flag;

  // Every wrapper and every other #if use of the flag in the workspace.
  const all: { f: ParsedFile; w: Wrapper }[] = [];
  let otherUses = 0;
  for (const file of cache.source.files()) {
    const f = file === input.file ? here : cache.get(file);
    if (!f || !f.text.includes(flag)) continue;
    const ws = wrappersOf(f, flag, parse);
    for (const x of ws) all.push({ f, w: x });
    const wrapperLines = new Set(ws.map((x) => x.ifLine));
    otherUses += f.pp.uses.filter((u) => u.name === flag && !wrapperLines.has(u.line) && !isDefaultLine(f, flag, u.line)).length;
  }
  const chosen = input.scope === 'flag' ? all : all.filter((x) => x.f === here && x.w.ifLine === w.ifLine);
  const byFile = new Map<ParsedFile, TextEdit[]>();
  for (const { f, w: x } of chosen) {
    const edits = byFile.get(f) ?? [];
    edits.push(...unwrap(f, x));
    byFile.set(f, edits);
  }

  let defaultRemoved: RemoveCompileOutPlan['defaultRemoved'] = null;
  if (otherUses === 0 && chosen.length === all.length) {
    for (const file of cache.source.files()) {
      const f = cache.get(file);
      const d = f?.pp.defaults.find((x) => x.name === flag);
      if (!f || !d) continue;
      const edit = removeDefault(f, flag, d.line);
      if (!edit) continue;
      const edits = byFile.get(f) ?? [];
      edits.push(edit);
      byFile.set(f, edits);
      defaultRemoved = { file, line: d.line };
      break;
    }
  }

  const edits: FileEdit[] = [...byFile].map(([f, e]) => ({ file: f.file, version: f.version, edits: e.sort((a, b) => a.start - b.start) }));
  edits.sort((a, b) => a.file.localeCompare(b.file));
  return {
    flag,
    edits,
    removed: chosen.map(({ f, w: x }) => ({ file: f.file, line: x.ifLine, kind: x.kind })).sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line),
    total: all.length,
    defaultRemoved,
  };
}

/** The `#ifndef FLAG` / `#define FLAG` lines of the flag's own default are not uses. */
function isDefaultLine(f: ParsedFile, flag: string, line: number): boolean {
  return f.pp.defaults.some((d) => d.name === flag && (d.line === line || d.line - 1 === line));
}

/** Deletes the `#if` line, and `#else` through `#endif` (what the fix inserted). */
function unwrap(f: ParsedFile, w: Wrapper): TextEdit[] {
  return [
    { start: f.lines.start(w.ifLine), end: f.lines.start(w.ifLine + 1), newText: '' },
    { start: f.lines.contentEnd(w.elseLine - 1), end: f.lines.contentEnd(w.endLine), newText: '' },
  ];
}

/**
 * Deletes the default's conditional, the comment right above it and one blank line before
 * that: exactly the block the fix adds.
 */
function removeDefault(f: ParsedFile, flag: string, defineLine: number): TextEdit | null {
  const c = f.pp.conditionals.find((x) => !x.includeGuard && x.startLine < defineLine && defineLine < x.endLine && x.branches[0].kind === 'ifndef' && tokenizePp(x.branches[0].expr).some((t) => t.text === flag));
  if (!c) return null;
  let first = c.startLine;
  if (first > 1) {
    const prev = first - 1;
    const lineStart = f.lines.start(prev) + f.lines.indent(prev).length;
    const n = f.lines.isBlank(prev) ? null : f.tree().rootNode.descendantForIndex(lineStart);
    if (n && n.type === 'comment' && n.startIndex === lineStart && f.lines.lineOf(n.endIndex - 1) === prev) first = f.lines.lineOf(n.startIndex);
  }
  if (first > 1 && f.lines.isBlank(first - 1)) first--;
  if (first <= 1) return { start: 0, end: f.lines.start(c.endLine + 1), newText: '' };
  return { start: f.lines.contentEnd(first - 1), end: f.lines.contentEnd(c.endLine), newText: '' };
}
