// Preprocessor directives: a scanner for directive lines, the conditional structure they form,
// flag defaults, and inactive regions under a workspace-wide macro environment.
//
// Why not tree-sitter: tree-sitter-c parses directives, but it neither tracks conditional state
// across a file nor evaluates `#if`, and an `#if` that splits a statement leaves ERROR nodes.
// What is needed is what a preprocessor does first: lex directive lines (comments, strings,
// continuations) and keep a stack of conditionals. That is a small lexer, not a C parser, and it
// is fast enough to run on every file on every re-analysis.

import { evaluateIf, tokenizePp, type MacroEnv, type MacroLookup, type PpToken, type Tri } from './ppExpr';

export { evaluateIf, tokenizePp, type MacroEnv, type MacroLookup, type PpToken, type Tri } from './ppExpr';

export type DirectiveKind = 'if' | 'ifdef' | 'ifndef' | 'elif' | 'elifdef' | 'elifndef' | 'else' | 'endif' | 'define' | 'undef' | 'include' | 'other';
export type BranchKind = 'if' | 'ifdef' | 'ifndef' | 'elif' | 'elifdef' | 'elifndef' | 'else';

export interface Directive {
  kind: DirectiveKind;
  /** 1-based; endLine > line when the directive continues with backslash-newline or a block comment. */
  line: number;
  endLine: number;
  /** The directive from `#`, comments replaced by a space, continuations joined, trailing space trimmed. */
  text: string;
  /** The directive name as written: `define`, `include_next`, `pragma`; '' for a null directive. */
  keyword: string;
  /** define / undef / ifdef / ifndef / elifdef / elifndef. */
  name?: string;
  /** Parameters of a function-like macro (`...` for the variadic one). */
  params?: string[];
  /** The body of a #define. */
  value?: string;
  /**
   * The condition of #if / #elif as written; for #ifdef X and #ifndef X (and the elif forms) the
   * equivalent `defined(X)` / `!defined(X)`, so every conditional directive can go to evaluateIf.
   */
  expr?: string;
  /** #include / #include_next / #import: the header as written, `<stdio.h>` or `"x.h"`. */
  header?: string;
}

export interface Branch {
  line: number;
  /** Last line of the branch's directive (continuations). */
  endLine: number;
  kind: BranchKind;
  /** As Directive.expr: `defined(X)` for #ifdef X, '' for #else. */
  expr: string;
}

export interface Conditional {
  /** The opening directive and its #endif (the last line of the file if unterminated). */
  startLine: number;
  endLine: number;
  branches: Branch[];
  /** False when the file ends before the #endif. */
  closed: boolean;
  includeGuard: boolean;
  /** Macros referenced by its branch expressions, in order of first use. */
  macros: string[];
  /** Index in PpFacts.conditionals of the enclosing conditional. */
  parent: number | null;
}

/** `#ifndef X` + `#define X <non-empty value>`; with a nested #if choosing the value, one per #define. */
export interface FlagDefault {
  name: string;
  value: string;
  line: number;
}

/** An identifier in #if / #elif / #ifdef / #ifndef (and elif forms), including the operands of defined(). */
export interface MacroUse {
  name: string;
  line: number;
  /** 1-based, in UTF-16 code units. */
  column: number;
}

export interface PpFacts {
  directives: Directive[];
  /** In order of their opening directive; `parent` indexes this array. */
  conditionals: Conditional[];
  defaults: FlagDefault[];
  defines: Directive[];
  uses: MacroUse[];
  /** The macro of the include guard wrapping the whole file. */
  includeGuard: string | null;
  problems: { line: number; message: string }[];
  /** Names the file defines under its own `#ifndef NAME` (flag defaults, include guards). */
  defaulted: string[];
  /** The last line of the file (1-based). */
  lastLine: number;
}

// ---- lexing -------------------------------------------------------------------------------

const LF = 10;
const CR = 13;
const SLASH = 47;
const STAR = 42;
const BACKSLASH = 92;
const HASH = 35;
const PERCENT = 37;
const COLON = 58;
const DQUOTE = 34;
const QUOTE = 39;

interface RawDirective {
  line: number;
  endLine: number;
  /** Offset of `#` in the source. */
  start: number;
  text: string;
  /** Pairs (text offset, source offset) where a copied run of source starts. */
  map: number[];
  /** Code (not only comments) between the previous directive and this one. */
  codeBefore: boolean;
}

/** If a backslash at `i` ends the physical line, the offset just past the newline, else -1. */
function continuationEnd(s: string, i: number): number {
  let j = i + 1;
  // GCC accepts (with a warning) spaces between the backslash and the newline.
  while (s.charCodeAt(j) === 32 || s.charCodeAt(j) === 9) j++;
  if (s.charCodeAt(j) === CR) j++;
  return s.charCodeAt(j) === LF ? j + 1 : -1;
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** `'` inside a pp-number is a C23 digit separator (1'000'000), not a character constant. */
function isDigitSeparator(s: string, i: number): boolean {
  if (!isAlnum(s.charCodeAt(i - 1))) return false;
  let k = i - 1;
  while (k >= 0) {
    const c = s.charCodeAt(k);
    if (isAlnum(c) || c === QUOTE || c === 46) k--;
    else break;
  }
  const first = s.charCodeAt(k + 1);
  return first >= 48 && first <= 57;
}

function countNewlines(s: string, from: number, to: number): number {
  let n = 0;
  for (let k = s.indexOf('\n', from); k >= 0 && k < to; k = s.indexOf('\n', k + 1)) n++;
  return n;
}

/** Skips a /* comment opened at `i`; returns the offset after it. */
function commentEnd(s: string, i: number): number {
  const e = s.indexOf('*/', i + 2);
  return e < 0 ? s.length : e + 2;
}

interface Lexed {
  raw: RawDirective[];
  /** Lines with code outside directives and comments (first and last), 0 when none. */
  firstCode: number;
  lastCode: number;
  lastLine: number;
}

// After code on a line, blanks and `#` no longer matter: only these end a run the lexer skips.
const SPECIAL = new Uint8Array(128);
for (const ch of '\n\\/"\'') SPECIAL[ch.charCodeAt(0)] = 1;

/** Newlines crossed by the last lineCommentEnd / literalEnd call (module state: no closure per call). */
let crossed = 0;

function lex(s: string): Lexed {
  const raw: RawDirective[] = [];
  const n = s.length;
  let i = s.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte-order mark is not code
  let line = 1;
  let bol = true; // only blanks and comments so far on this line
  let firstCode = 0;
  let lastCode = 0;
  let code = false; // code since the last directive
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === LF) {
      line++;
      i++;
      bol = true;
      continue;
    }
    if (c === 32 || c === 9 || c === CR || c === 12 || c === 11) {
      i++;
      continue;
    }
    if (c === BACKSLASH) {
      const e = continuationEnd(s, i);
      if (e >= 0) {
        line++;
        i = e;
        continue;
      }
    } else if (c === SLASH) {
      const d = s.charCodeAt(i + 1);
      if (d === STAR) {
        const e = commentEnd(s, i);
        line += countNewlines(s, i, e);
        i = e;
        continue;
      }
      if (d === SLASH) {
        i = lineCommentEnd(s, i + 2);
        line += crossed;
        continue;
      }
    } else if (bol && (c === HASH || (c === PERCENT && s.charCodeAt(i + 1) === COLON))) {
      const d = readDirective(s, i, line, code);
      raw.push(d);
      code = false;
      line = d.endLine;
      i = d.end;
      continue;
    }
    if (lastCode !== line) {
      lastCode = line;
      if (!firstCode) firstCode = line;
    }
    bol = false;
    code = true;
    if (c === DQUOTE || (c === QUOTE && !isDigitSeparator(s, i))) {
      i = literalEnd(s, i);
      line += crossed;
      continue;
    }
    i++;
    for (let k = s.charCodeAt(i); i < n && (k >= 128 || SPECIAL[k] === 0); k = s.charCodeAt(++i));
  }
  return { raw, firstCode, lastCode, lastLine: line };
}

/** From inside a // comment: the offset of the newline that ends it (continuations extend it). */
function lineCommentEnd(s: string, i: number): number {
  crossed = 0;
  for (;;) {
    const e = s.indexOf('\n', i);
    if (e < 0) return s.length;
    let k = e - 1;
    if (s.charCodeAt(k) === CR) k--;
    while (s.charCodeAt(k) === 32 || s.charCodeAt(k) === 9) k--;
    if (s.charCodeAt(k) !== BACKSLASH) return e;
    crossed++;
    i = e + 1;
  }
}

/** From an opening quote: the offset after the literal, or of the newline that cuts it short. */
function literalEnd(s: string, i: number): number {
  crossed = 0;
  const q = s.charCodeAt(i);
  let j = i + 1;
  const n = s.length;
  while (j < n) {
    const c = s.charCodeAt(j);
    if (c === q) return j + 1;
    if (c === LF) return j;
    if (c === BACKSLASH) {
      const e = continuationEnd(s, j);
      if (e >= 0) {
        crossed++;
        j = e;
      } else j += 2;
      continue;
    }
    j++;
  }
  return n;
}

/** Reads the logical directive line starting at `#`; `end` is the offset of the newline that ends it. */
function readDirective(s: string, start: number, line: number, codeBefore: boolean): RawDirective & { end: number } {
  const n = s.length;
  let out = '';
  const map: number[] = [];
  let seg = start;
  let j = start;
  let cur = line;
  let lit = 0;
  while (j < n) {
    const c = s.charCodeAt(j);
    if (c === LF) break;
    let cut = -1; // where a run of copied source ends
    let resume = 0;
    if (c === BACKSLASH) {
      const e = continuationEnd(s, j);
      if (e >= 0) {
        cut = j;
        resume = e;
        cur++;
      } else if (lit) {
        j += 2;
        continue;
      }
    } else if (c === CR) {
      cut = j;
      resume = j + 1;
    } else if (lit) {
      if (c === lit) lit = 0;
    } else if (c === SLASH && s.charCodeAt(j + 1) === STAR) {
      // A comment is one space (translation phase 3), even when it spans lines: the directive goes on.
      cut = j;
      resume = commentEnd(s, j);
      cur += countNewlines(s, j, resume);
    } else if (c === SLASH && s.charCodeAt(j + 1) === SLASH) {
      if (j > seg) {
        map.push(out.length, seg);
        out += s.slice(seg, j);
      }
      j = seg = lineCommentEnd(s, j + 2);
      cur += crossed;
      break;
    } else if (c === DQUOTE || (c === QUOTE && !isDigitSeparator(s, j))) {
      lit = c;
    }
    if (cut < 0) {
      j++;
      continue;
    }
    if (cut > seg) {
      map.push(out.length, seg);
      out += s.slice(seg, cut);
    }
    if (c === SLASH) {
      map.push(out.length, cut);
      out += ' ';
    }
    j = seg = resume;
  }
  if (j > seg) {
    map.push(out.length, seg);
    out += s.slice(seg, j);
  }
  return { line, endLine: cur, start, text: out.trimEnd(), map, end: j, codeBefore };
}

/** Source offset of a directive text offset. */
function sourceOffset(d: RawDirective, off: number): number {
  const m = d.map;
  let k = 0;
  for (let p = 0; p < m.length; p += 2) {
    if (m[p] <= off) k = p;
    else break;
  }
  return m.length ? m[k + 1] + (off - m[k]) : d.start;
}

// ---- directives -----------------------------------------------------------------------------

const CONDITIONAL_KEYWORDS = new Set(['if', 'ifdef', 'ifndef', 'elif', 'elifdef', 'elifndef', 'else', 'endif', 'define', 'undef']);

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36 || c >= 128;
}

/** The identifier at `i`, else undefined. */
function identAt(text: string, i: number): string | undefined {
  if (!isIdentStart(text.charCodeAt(i))) return undefined;
  let j = i + 1;
  for (let c = text.charCodeAt(j); j < text.length && (isIdentStart(c) || (c >= 48 && c <= 57)); c = text.charCodeAt(++j));
  return text.slice(i, j);
}

function skipBlanks(text: string, i: number): number {
  for (let c = text.charCodeAt(i); c === 32 || c === 9 || c === 12 || c === 11; c = text.charCodeAt(++i));
  return i;
}

interface Parsed {
  d: Directive;
  /** Offset in `d.text` where the operand (the expression or name) starts. */
  operand: number;
}

function parseDirective(raw: RawDirective): Parsed {
  const text = raw.text;
  let i = skipBlanks(text, text.charCodeAt(0) === PERCENT ? 2 : 1);
  const keyword = identAt(text, i) ?? '';
  i = skipBlanks(text, i + keyword.length);
  const d: Directive = { kind: 'other', line: raw.line, endLine: raw.endLine, text, keyword };
  if (keyword === 'include' || keyword === 'include_next' || keyword === 'import') {
    d.kind = 'include';
    d.header = text.slice(i).trim();
    return { d, operand: i };
  }
  if (!CONDITIONAL_KEYWORDS.has(keyword)) return { d, operand: i };
  const kind = (d.kind = keyword as DirectiveKind);
  if (kind === 'if' || kind === 'elif') {
    d.expr = text.slice(i).trim();
    return { d, operand: i };
  }
  if (kind === 'else' || kind === 'endif') return { d, operand: i };
  const name = identAt(text, i);
  if (name !== undefined) d.name = name;
  if (kind === 'ifdef' || kind === 'elifdef') d.expr = name ? `defined(${name})` : '';
  else if (kind === 'ifndef' || kind === 'elifndef') d.expr = name ? `!defined(${name})` : '';
  else if (kind === 'define' && name !== undefined) {
    let j = i + name.length;
    if (text.charCodeAt(j) === 40) {
      // `(` right after the name: function-like (C11 6.10.3p10)
      const close = text.indexOf(')', j);
      const inner = text.slice(j + 1, close < 0 ? text.length : close);
      d.params = inner.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
      j = close < 0 ? text.length : close + 1;
    }
    d.value = text.slice(j).trim();
  }
  return { d, operand: i };
}

/** `!defined(X)`, `!defined X` or `#ifndef X`: the X, else undefined. */
function negatedDefinedName(kind: BranchKind, expr: string): string | undefined {
  if (kind !== 'if' && kind !== 'elif' && kind !== 'ifndef' && kind !== 'elifndef') return undefined;
  return /^!\s*defined\s*(?:\(\s*([A-Za-z_]\w*)\s*\)|\s([A-Za-z_]\w*))$/.exec(expr)?.slice(1).find((x) => x !== undefined);
}

const GUARD_NAME = /(?:_H|_HPP|_HH|_INCLUDED|_INC|_GUARD)_*$/i;

interface OpenCond {
  index: number;
  hasElse: boolean;
  /** The X of an open `#ifndef X` branch, for flag defaults. */
  negName: string | undefined;
  /** Guard shape: `#ifndef X` whose next directive is `#define X` with an empty body (or 1, for `X_H`). */
  guard: 'yes' | 'no';
  /** The line of that #define. */
  guardDefine: number;
}

/** Scans the directives of one C file. Never throws. */
export function scanPreprocessor(text: string): PpFacts {
  try {
    return scan(typeof text === 'string' ? text : String(text));
  } catch (err) {
    // A bug here must not take the index down: report it as a problem of the file.
    return { directives: [], conditionals: [], defaults: [], defines: [], uses: [], includeGuard: null, problems: [{ line: 1, message: `preprocessor scan failed: ${err instanceof Error ? err.message : String(err)}` }], defaulted: [], lastLine: 1 };
  }
}

function scan(text: string): PpFacts {
  const lexed = lex(text);
  const facts: PpFacts = { directives: [], conditionals: [], defaults: [], defines: [], uses: [], includeGuard: null, problems: [], defaulted: [], lastLine: lexed.lastLine };
  const stack: OpenCond[] = [];
  // Open `#ifndef X` branches per X: a #define X inside one is a default. A count, not a stack walk,
  // so 10,000 nested conditionals stay linear.
  const openNeg = new Map<string, number>();
  const defaulted = new Set<string>();
  const macroSets: Set<string>[] = [];
  const guardDefines = new Set<number>(); // lines of `#define X_H 1` that turned out to be guards
  const problem = (line: number, message: string) => facts.problems.push({ line, message });
  const closeBranch = (o: OpenCond) => {
    if (o.negName !== undefined) {
      const k = openNeg.get(o.negName)! - 1;
      if (k > 0) openNeg.set(o.negName, k);
      else openNeg.delete(o.negName);
      o.negName = undefined;
    }
  };
  const openBranch = (o: OpenCond, b: Branch) => {
    o.negName = negatedDefinedName(b.kind, b.expr);
    if (o.negName !== undefined) openNeg.set(o.negName, (openNeg.get(o.negName) ?? 0) + 1);
  };
  const addUses = (raw: RawDirective, p: Parsed, cond: number) => {
    const toks = tokenizePp(p.d.text, p.operand);
    for (let k = 0; k < toks.length; k++) {
      const t = toks[k];
      if (t.kind !== 'id' || t.text === 'defined') continue;
      if ((t.text === '__has_include' || t.text === '__has_include_next') && toks[k + 1]?.text === '(') {
        k = skipParens(toks, k + 1); // a header name, not macros
        continue;
      }
      const src = sourceOffset(raw, t.offset);
      const line = raw.line + countNewlines(text, raw.start, src);
      const column = src - (text.lastIndexOf('\n', src - 1) + 1) + 1;
      facts.uses.push({ name: t.text, line, column });
      macroSets[cond].add(t.text);
      if (p.d.kind === 'ifdef' || p.d.kind === 'ifndef' || p.d.kind === 'elifdef' || p.d.kind === 'elifndef') break;
    }
  };
  let pending: OpenCond | undefined; // an `#ifndef X` just opened: is the next directive `#define X`?
  for (const raw of lexed.raw) {
    const p = parseDirective(raw);
    const d = p.d;
    facts.directives.push(d);
    const top = stack[stack.length - 1];
    if (pending) {
      // The guard shape needs the #define right after the #ifndef, with no code between.
      const name = pending.negName ?? '';
      const shape = d.kind === 'define' && !raw.codeBefore && d.name === name && !d.params && (!d.value || (d.value === '1' && GUARD_NAME.test(name)));
      pending.guard = shape ? 'yes' : 'no';
      pending.guardDefine = d.line;
      pending = undefined;
    }
    switch (d.kind) {
      case 'if':
      case 'ifdef':
      case 'ifndef': {
        const index = facts.conditionals.length;
        const b: Branch = { line: d.line, endLine: d.endLine, kind: d.kind, expr: d.expr ?? '' };
        facts.conditionals.push({ startLine: d.line, endLine: lexed.lastLine, branches: [b], closed: false, includeGuard: false, macros: [], parent: top ? top.index : null });
        macroSets.push(new Set());
        const o: OpenCond = { index, hasElse: false, negName: undefined, guard: 'no', guardDefine: 0 };
        openBranch(o, b);
        if (o.negName !== undefined) pending = o;
        stack.push(o);
        if (!b.expr) problem(d.line, `#${d.kind} without ${d.kind === 'if' ? 'an expression' : 'a macro name'}`);
        addUses(raw, p, index);
        break;
      }
      case 'elif':
      case 'elifdef':
      case 'elifndef':
      case 'else': {
        if (!top) {
          problem(d.line, `#${d.kind} without #if`);
          break;
        }
        if (top.hasElse) problem(d.line, `#${d.kind} after #else`);
        closeBranch(top);
        top.guard = 'no';
        const b: Branch = { line: d.line, endLine: d.endLine, kind: d.kind, expr: d.expr ?? '' };
        facts.conditionals[top.index].branches.push(b);
        if (d.kind === 'else') top.hasElse = true;
        else {
          openBranch(top, b);
          if (!b.expr) problem(d.line, `#${d.kind} without ${d.kind === 'elif' ? 'an expression' : 'a macro name'}`);
          addUses(raw, p, top.index);
        }
        break;
      }
      case 'endif': {
        if (!top) {
          problem(d.line, '#endif without #if');
          break;
        }
        closeBranch(top);
        stack.pop();
        const c = facts.conditionals[top.index];
        c.endLine = d.line;
        c.closed = true;
        if (top.guard === 'yes') {
          c.includeGuard = true;
          guardDefines.add(top.guardDefine);
        }
        break;
      }
      case 'define':
        facts.defines.push(d);
        if (d.name === undefined) problem(d.line, '#define without a macro name');
        else if (openNeg.has(d.name)) {
          defaulted.add(d.name);
          if (d.value && !d.params) facts.defaults.push({ name: d.name, value: d.value, line: d.line });
        }
        break;
      case 'undef':
        if (d.name === undefined) problem(d.line, '#undef without a macro name');
        break;
    }
  }
  for (let k = stack.length - 1; k >= 0; k--) {
    const c = facts.conditionals[stack[k].index];
    problem(c.startLine, `unterminated #${c.branches[0].kind} from line ${c.startLine}`);
  }
  facts.conditionals.forEach((c, k) => (c.macros = [...macroSets[k]]));
  markIncludeGuards(facts, lexed);
  if (guardDefines.size) facts.defaults = facts.defaults.filter((d) => !guardDefines.has(d.line));
  for (const c of facts.conditionals) if (c.includeGuard) defaulted.add(negatedDefinedName(c.branches[0].kind, c.branches[0].expr)!);
  facts.defaulted = [...defaulted];
  return facts;
}

function skipParens(toks: PpToken[], open: number): number {
  let depth = 0;
  for (let k = open; k < toks.length; k++) {
    if (toks[k].text === '(') depth++;
    else if (toks[k].text === ')' && --depth === 0) return k;
  }
  return toks.length;
}

/** A guard-shaped conditional is an include guard when it wraps the file or its name says so (`X_H`). */
function markIncludeGuards(facts: PpFacts, lexed: Lexed): void {
  let firstDirective = Infinity;
  let lastDirective = 0;
  for (const d of facts.directives) {
    if (d.kind === 'other') continue; // #pragma once may sit outside
    firstDirective = Math.min(firstDirective, d.line);
    lastDirective = d.line;
  }
  for (const c of facts.conditionals) {
    if (!c.includeGuard) continue;
    const name = negatedDefinedName(c.branches[0].kind, c.branches[0].expr)!;
    const wraps =
      c.parent === null &&
      (lexed.firstCode === 0 || (lexed.firstCode > c.startLine && lexed.lastCode < c.endLine)) &&
      firstDirective >= c.startLine &&
      lastDirective <= c.endLine;
    if (wraps && facts.includeGuard === null) facts.includeGuard = name;
    else if (!wraps && !GUARD_NAME.test(name)) c.includeGuard = false;
  }
}

// ---- simulation ---------------------------------------------------------------------------

/** A macro's state at some point: defined with a body, not defined, or unknown. */
type MState = { k: 'def'; value: string; params?: string[] } | { k: 'undef' } | { k: 'unk' };

const UNDEF: MState = { k: 'undef' };
const UNK: MState = { k: 'unk' };

/** Whether a branch's lines are compiled. */
const enum Act {
  No = 0,
  Yes = 1,
  Maybe = 2,
}

function fromLookup(r: MacroLookup | undefined): MState {
  if (r === undefined) return UNK;
  if (!r.defined) return UNDEF;
  return r.params ? { k: 'def', value: r.value, params: r.params } : { k: 'def', value: r.value };
}

function toLookup(s: MState): MacroLookup | undefined {
  if (s.k === 'unk') return undefined;
  if (s.k === 'undef') return { defined: false };
  return s.params ? { defined: true, value: s.value, params: s.params } : { defined: true, value: s.value };
}

function sameState(a: MState, b: MState): boolean {
  if (a === b) return true;
  if (a.k !== b.k) return false;
  if (a.k !== 'def' || b.k !== 'def') return true;
  return a.value === b.value && (a.params ?? []).join(',') === (b.params ?? []).join(',') && !a.params === !b.params;
}

const NO_CHANGES: ReadonlyMap<string, MState | undefined> = new Map();

function fromTri(t: Tri): Act {
  return !t.known ? Act.Maybe : t.value !== 0n ? Act.Yes : Act.No;
}

function and(a: Act, b: Act): Act {
  return a === Act.No || b === Act.No ? Act.No : a === Act.Yes && b === Act.Yes ? Act.Yes : Act.Maybe;
}

interface Frame {
  index: number;
  /** Effective activity of the enclosing code. */
  parent: Act;
  /** Whether an earlier branch was taken (relative to this conditional). */
  taken: Act;
  /** This branch, relative to the conditional / effective. */
  rel: Act;
  eff: Act;
  /** Local states before the conditional of every name a branch changed (undefined = not set locally). */
  entry: Map<string, MState | undefined>;
  /** Per branch that may be taken: the states of `entry`'s names at its end. */
  ends: ReadonlyMap<string, MState | undefined>[];
}

interface Simulation {
  /** Per conditional, per branch: whether its lines are compiled (enclosing conditionals included). */
  branchAct: Act[][];
  /** Per conditional: whether the code around it is compiled. */
  parentAct: Act[];
  /** Names the file defines or undefines, with their states at its end. */
  local: Map<string, MState>;
}

/**
 * Runs a file's directives in order, as a preprocessor would, with three-valued conditions.
 * A branch that may or may not be compiled is forked and joined at #endif: a macro set the
 * same way on every possible path stays known. `outer(name, initial)` gives states of names
 * the file has not set yet; `initial` is true for the file's own #ifndef defaults.
 */
function simulate(facts: PpFacts, outer: (name: string, initial: boolean) => MState): Simulation {
  const local = new Map<string, MState>();
  const defaulted = new Set(facts.defaulted);
  const look = (name: string): MState => local.get(name) ?? outer(name, defaulted.has(name));
  const env: MacroEnv = { lookup: (name) => toLookup(look(name)) };
  const branchAct: Act[][] = facts.conditionals.map(() => []);
  const parentAct: Act[] = facts.conditionals.map(() => Act.Yes);
  const frames: Frame[] = [];
  let next = 0; // the conditional the next opening directive starts
  const current = () => (frames.length ? frames[frames.length - 1].eff : Act.Yes);
  const set = (name: string, s: MState) => {
    const f = frames[frames.length - 1];
    if (f && !f.entry.has(name)) f.entry.set(name, local.get(name));
    local.set(name, s);
  };
  const cond = (d: Directive, parent: Act, guard: boolean): Act => {
    if (parent === Act.No) return Act.No;
    if (guard) return Act.Yes;
    return d.kind === 'else' ? Act.Yes : d.expr ? fromTri(evaluateIf(d.expr, env)) : Act.Maybe;
  };
  const endBranch = (f: Frame) => {
    // Every branch that may run is an outcome, also one that changed nothing (yet).
    if (f.rel !== Act.No) f.ends.push(f.entry.size ? new Map([...f.entry.keys()].map((k) => [k, local.get(k)])) : NO_CHANGES);
    for (const [k, v] of f.entry) {
      if (v === undefined) local.delete(k);
      else local.set(k, v);
    }
  };
  const close = () => {
    const f = frames.pop()!;
    endBranch(f);
    if (f.entry.size === 0) return;
    const outcomes = f.taken === Act.Yes ? f.ends : [...f.ends, NO_CHANGES];
    for (const [k, before] of f.entry) {
      const states = outcomes.map((o) => (o.has(k) ? o.get(k) : before)).map((v) => v ?? outer(k, defaulted.has(k)));
      const joined = states.every((s) => sameState(s, states[0])) ? states[0] : UNK;
      if (states.length && !(before !== undefined && sameState(joined, before))) set(k, joined);
    }
  };
  for (const d of facts.directives) {
    switch (d.kind) {
      case 'if':
      case 'ifdef':
      case 'ifndef': {
        const index = next++;
        const c = facts.conditionals[index];
        if (!c) break;
        const parent = current();
        const rel = cond(d, parent, c.includeGuard);
        const f: Frame = { index, parent, taken: rel, rel, eff: and(parent, rel), entry: new Map(), ends: [] };
        frames.push(f);
        parentAct[index] = parent;
        branchAct[index].push(f.eff);
        break;
      }
      case 'elif':
      case 'elifdef':
      case 'elifndef':
      case 'else': {
        const f = frames[frames.length - 1];
        if (!f) break;
        endBranch(f);
        let rel: Act;
        if (f.taken === Act.Yes || f.parent === Act.No) rel = Act.No;
        else {
          const c = cond(d, f.parent, false);
          rel = f.taken === Act.No ? c : c === Act.No ? Act.No : Act.Maybe;
          f.taken = f.taken === Act.No ? c : c === Act.Yes ? Act.Yes : Act.Maybe;
        }
        f.rel = rel;
        f.eff = and(f.parent, rel);
        branchAct[f.index].push(f.eff);
        break;
      }
      case 'endif':
        if (frames.length) close();
        break;
      case 'define':
        if (d.name !== undefined && current() !== Act.No) set(d.name, d.params ? { k: 'def', value: d.value ?? '', params: d.params } : { k: 'def', value: d.value ?? '' });
        break;
      case 'undef':
        if (d.name !== undefined && current() !== Act.No) set(d.name, UNDEF);
        break;
    }
  }
  while (frames.length) close();
  return { branchAct, parentAct, local };
}

// ---- the workspace environment -------------------------------------------------------------

const PLATFORM_MACROS = new Set(['NDEBUG', 'linux', 'unix', 'i386', 'sun', 'WIN32', 'WIN64', 'NULL', 'EOF', 'BUFSIZ', 'RAND_MAX', 'EXIT_SUCCESS', 'EXIT_FAILURE', 'CHAR_BIT', 'MB_LEN_MAX', 'PAGE_SIZE', 'PAGESIZE', 'CPU_SETSIZE', 'errno']);
// Limits and system-header constants allocators test with #ifdef (MAP_HUGETLB, MADV_FREE, SYS_gettid).
// Only prefixes no project would use for its own flags: an external name hides workspace defaults.
const SYSTEM_MACRO = /^(?:U?INT(?:_LEAST|_FAST)?\d*_(?:MAX|MIN|C)|U?INT(?:PTR|MAX)_(?:MAX|MIN)|S?SIZE_MAX|PTRDIFF_(?:MAX|MIN)|S?CHAR_(?:MAX|MIN)|UCHAR_MAX|U?(?:SHRT|INT|LONG|LLONG)_(?:MAX|MIN)|(?:MAP|PROT|MADV|MREMAP|MFD|MPOL|MCL|RTLD|FUTEX|RLIMIT|PTHREAD|CLOCK|TARGET_OS|TARGET_CPU)_[A-Z0-9_]+|SYS_[a-z]\w*|PR_(?:SET|GET)_\w+|E(?:NOMEM|INVAL|AGAIN|NOSYS|EXIST|INTR|PERM|NOENT|FAULT|BUSY|OVERFLOW|RANGE|NOTSUP|OPNOTSUPP|WOULDBLOCK))$/;

/**
 * The default for buildMacroEnv's isExternal: compiler-predefined and reserved names (`__x`,
 * `_X`), platform macros, and constants from system headers. Their value comes from outside the
 * workspace, so they are unknown unless configured.
 */
export function isExternalMacro(name: string): boolean {
  return name.startsWith('__') || /^_[A-Z]/.test(name) || PLATFORM_MACROS.has(name) || SYSTEM_MACRO.test(name);
}

export type WorkspaceMacroEnv = MacroEnv & {
  /** Every macro the workspace or the extra defines mention and that may be defined: its body, or null when unknown. */
  values: Map<string, string | null>;
};

const MAX_ROUNDS = 12;

/**
 * The workspace's macro defaults. Every file's directives are simulated in order (a file sees what
 * the other files defined in the previous round) until nothing changes, so a default that depends
 * on another header's default settles. `extraDefines` (settings, `-D`) win over the workspace;
 * a null value there means "not defined" (`-U`). Names for which `isExternal` holds are unknown
 * unless given there; any other name the workspace never defines is not defined.
 */
export function buildMacroEnv(files: PpFacts[], extraDefines: Record<string, string | null>, isExternal: (name: string) => boolean = isExternalMacro): WorkspaceMacroEnv {
  const extra = new Map<string, MState>();
  for (const [k, v] of Object.entries(extraDefines ?? {})) extra.set(k, typeof v === 'string' ? { k: 'def', value: v } : UNDEF);
  const external = (name: string): boolean => {
    try {
      return isExternal(name);
    } catch {
      return false;
    }
  };
  const initial = (name: string): MState => extra.get(name) ?? (external(name) ? UNK : UNDEF);
  let global = new Map<string, MState>();
  const resolve = (name: string): MState => extra.get(name) ?? (external(name) ? UNK : (global.get(name) ?? UNDEF));
  const outer = (name: string, init: boolean) => (init ? initial(name) : resolve(name));
  let prevRound: Map<string, MState> | undefined;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const next = new Map<string, MState>();
    for (const f of files) {
      for (const [k, s] of simulateCached(f, outer)) {
        const old = next.get(k);
        next.set(k, old === undefined || sameState(old, s) ? s : UNK);
      }
    }
    const stable = sameMap(next, global);
    prevRound = global;
    global = next;
    if (stable) break;
    if (round === MAX_ROUNDS - 1) {
      // A cycle (`#ifdef X / #undef X / #else / #define X`): whatever still moves is unknown.
      for (const [k, s] of global) if (!prevRound.has(k) || !sameState(prevRound.get(k)!, s)) global.set(k, UNK);
    }
  }
  const values = new Map<string, string | null>();
  for (const name of new Set([...global.keys(), ...extra.keys()])) {
    const s = resolve(name);
    if (s.k !== 'undef') values.set(name, s.k === 'def' ? s.value : null);
  }
  return {
    values,
    lookup: (name) => toLookup(resolve(name)),
    lookupInitial: (name) => toLookup(initial(name)),
  };
}

interface CachedRun {
  /** Every outside state the run looked at ('\u0001' + name: the initial state). */
  deps: Map<string, MState>;
  local: Map<string, MState>;
}

// A file's simulation depends only on its facts and the outside states it looked at: re-analysis
// after an edit re-runs the edited file and those whose inputs changed, not the workspace.
// A few runs per file, since the rounds of one buildMacroEnv see different globals.
const runCache = new WeakMap<PpFacts, CachedRun[]>();
const RUNS_PER_FILE = 4;

function simulateCached(facts: PpFacts, outer: (name: string, initial: boolean) => MState): Map<string, MState> {
  const runs = runCache.get(facts) ?? [];
  for (const r of runs) {
    let same = true;
    for (const [key, state] of r.deps) {
      const init = key.charCodeAt(0) === 1;
      if (!sameState(outer(init ? key.slice(1) : key, init), state)) {
        same = false;
        break;
      }
    }
    if (same) return r.local;
  }
  const deps = new Map<string, MState>();
  const local = simulate(facts, (name, init) => {
    const st = outer(name, init);
    deps.set(init ? '\u0001' + name : name, st);
    return st;
  }).local;
  runs.unshift({ deps, local });
  if (runs.length > RUNS_PER_FILE) runs.pop();
  runCache.set(facts, runs);
  return local;
}

function sameMap(a: Map<string, MState>, b: Map<string, MState>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, s] of a) {
    const t = b.get(k);
    if (!t || !sameState(s, t)) return false;
  }
  return true;
}

// ---- per-file queries -----------------------------------------------------------------------

const simCache = new WeakMap<PpFacts, WeakMap<MacroEnv, Simulation>>();

/** The file under `env`, its own #define/#undef applied in order, its own defaults judged from lookupInitial. */
function simulateUnder(facts: PpFacts, env: MacroEnv): Simulation {
  let byEnv = simCache.get(facts);
  if (!byEnv) simCache.set(facts, (byEnv = new WeakMap()));
  let sim = byEnv.get(env);
  if (!sim) {
    const safe = (f: () => MacroLookup | undefined): MState => {
      try {
        return fromLookup(f());
      } catch {
        return UNK;
      }
    };
    sim = simulate(facts, (name, init) => (init ? (env.lookupInitial ? safe(() => env.lookupInitial!(name)) : UNDEF) : safe(() => env.lookup(name))));
    byEnv.set(env, sim);
  }
  return sim;
}

function isSimple(e: string): boolean {
  return /^!?\s*(?:[A-Za-z_]\w*|\d+|defined\s*\(\s*[A-Za-z_]\w*\s*\))$/.test(e);
}

function negate(e: string): string {
  const m = /^!\s*(.*)$/.exec(e);
  if (m && isSimple(m[1])) return m[1];
  return isSimple(e) ? `!${e}` : `!(${e})`;
}

const MAX_SHOWN_BRANCHES = 8;

/** The condition under which a branch's lines are compiled: `!(A) && B` for `#elif B` after `#if A`. */
function branchCondition(c: Conditional, bi: number): string {
  // A long #elif chain would repeat every earlier condition in every later one: keep it short.
  const parts = c.branches.slice(0, Math.min(bi, MAX_SHOWN_BRANCHES)).map((b) => negate(b.expr || '0'));
  if (bi > MAX_SHOWN_BRANCHES) parts.push('...');
  const own = c.branches[bi];
  if (own.kind !== 'else') parts.push(parts.length && !isSimple(own.expr) ? `(${own.expr})` : own.expr);
  return parts.join(' && ');
}

/** The line range strictly inside branch `bi` (between its directive and the next one). */
function branchBody(c: Conditional, bi: number): { from: number; to: number } {
  const b = c.branches[bi];
  const nextLine = bi + 1 < c.branches.length ? c.branches[bi + 1].line : c.closed ? c.endLine : c.endLine + 1;
  return { from: b.endLine + 1, to: nextLine - 1 };
}

/**
 * Lines (1-based, inclusive) compiled out under `env`: the inside of every branch known to be
 * skipped. Directive lines stay active-looking, as in clangd; include guards never produce regions.
 * Results are cached per (facts, env) object: treat both as immutable (buildMacroEnv returns a
 * new env on every call).
 */
export function inactiveRegions(facts: PpFacts, env: MacroEnv): { startLine: number; endLine: number; condition: string }[] {
  try {
    const sim = simulateUnder(facts, env);
    const out: { startLine: number; endLine: number; condition: string }[] = [];
    facts.conditionals.forEach((c, ci) => {
      if (c.includeGuard || sim.parentAct[ci] === Act.No) return; // inside a region already
      c.branches.forEach((_b, bi) => {
        if (sim.branchAct[ci][bi] !== Act.No) return;
        const { from, to } = branchBody(c, bi);
        if (from <= to) out.push({ startLine: from, endLine: to, condition: branchCondition(c, bi) });
      });
    });
    return out;
  } catch {
    return [];
  }
}

/** The innermost branch whose body holds `line`: [conditional, branch] or undefined. */
function enclosingBranch(facts: PpFacts, line: number, skipGuards: boolean): [number, number] | undefined {
  let best: [number, number] | undefined;
  const cs = facts.conditionals;
  for (let ci = 0; ci < cs.length; ci++) {
    const c = cs[ci];
    if (c.startLine >= line) break; // sorted by startLine
    if (c.endLine < line || (skipGuards && c.includeGuard)) continue;
    for (let bi = 0; bi < c.branches.length; bi++) {
      const { from, to } = branchBody(c, bi);
      if (line >= from && line <= to) best = [ci, bi]; // later starts are nested deeper
    }
  }
  return best;
}

/**
 * The macro a branch is about: the first workspace name in its condition (in
 * `defined(__linux__) && !X_COMPILED` that is X_COMPILED), and whether the branch wants it off
 * (`!X`, `!defined(X)`, `X == 0`).
 */
function mainMacro(b: Branch): { macro: string; negated: boolean } {
  const toks = tokenizePp(b.expr);
  const ids = toks.map((t, k) => [t, k] as const).filter(([t]) => t.kind === 'id' && t.text !== 'defined');
  const hit = ids.find(([t]) => !isExternalMacro(t.text)) ?? ids[0];
  if (!hit) return { macro: '', negated: false };
  let k = hit[1] - 1;
  while (k >= 0 && (toks[k].text === '(' || toks[k].text === 'defined')) k--;
  const after = hit[1] + (toks[hit[1] + 1]?.text === ')' ? 2 : 1);
  const negated = toks[k]?.text === '!' || (toks[after]?.text === '==' && toks[after + 1]?.text === '0');
  return { macro: hit[0].text, negated };
}

export interface GuardInfo {
  /** The main macro of the branch's condition (for #else: of the #if it belongs to). */
  macro: string;
  /** The condition under which the line is compiled. */
  condition: string;
  /** True when the line is compiled when the macro is off: `#if !X`, `#ifndef X`, the #else of `#if X`. */
  negated: boolean;
  /** The line of the branch's directive (`#if`, `#elif` or `#else`). */
  line: number;
  kind: BranchKind;
  /** The whole conditional, #if to #endif. */
  startLine: number;
  endLine: number;
}

/** The innermost conditional around `line` that is not an include guard. */
export function guardAt(facts: PpFacts, line: number): GuardInfo | null {
  try {
    const hit = enclosingBranch(facts, line, true);
    if (!hit) return null;
    const c = facts.conditionals[hit[0]];
    const b = c.branches[hit[1]];
    let { macro, negated } = mainMacro(b);
    if (b.kind === 'else') {
      const first = mainMacro(c.branches[0]);
      macro = first.macro;
      negated = !first.negated;
    }
    return { macro, condition: branchCondition(c, hit[1]), negated, line: b.line, kind: b.kind, startLine: c.startLine, endLine: c.endLine };
  } catch {
    return null;
  }
}

/** Whether `line` is compiled under `env`; null when that depends on unknown macros. */
export function activeAt(facts: PpFacts, line: number, env: MacroEnv): boolean | null {
  try {
    const hit = enclosingBranch(facts, line, false);
    if (!hit) return true;
    const a = simulateUnder(facts, env).branchAct[hit[0]][hit[1]];
    return a === Act.Yes ? true : a === Act.No ? false : null;
  } catch {
    return null;
  }
}
