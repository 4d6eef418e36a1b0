// Compile-out wrappers already in the code, in the seeds' shape:
//
//   #if FLAG                     #if FLAG
//       <statement(s)>           #define M(...) <body>
//   #else                        #else
//       (void)0;                 #define M(...) ((void)0)
//   #endif                       #endif
//
// (the #else branch may also hold `(void)local;` lines). The conditional structure comes from
// the preprocessor scan; the #else branch is checked by parsing it on its own, so a wrapper is
// recognised whatever tree-sitter makes of the code around it.
import type { Node, Tree } from 'web-tree-sitter';
import { tokenizePp, type Conditional } from '../analysis/preprocessor';
import type { ParsedFile } from './textEdits';

export interface Wrapper {
  flag: string;
  /** `statement`: wraps statements; `macro`: wraps a #define with a no-op #else definition. */
  kind: 'statement' | 'macro';
  /** 1-based lines of `#if FLAG`, `#else` and `#endif`. */
  ifLine: number;
  elseLine: number;
  endLine: number;
}

/** The flag of a one-identifier `#if X`, else null. */
function soleIdentifier(expr: string): string | null {
  const toks = tokenizePp(expr);
  return toks.length === 1 && toks[0].kind === 'id' && toks[0].text !== 'defined' ? toks[0].text : null;
}

function isVoidCast(n: Node | null): boolean {
  if (!n || n.type !== 'cast_expression') return false;
  const type = n.childForFieldName('type');
  const value = n.childForFieldName('value');
  return !!type && type.text.replace(/\s+/g, '') === 'void' && !!value && (value.type === 'number_literal' || value.type === 'identifier');
}

/** Is the text a no-op macro body: empty, `(void)0` or `((void)0)`? */
export function isNoOpBody(value: string): boolean {
  const t = tokenizePp(value).map((x) => x.text).join('');
  return t === '' || t === '(void)0' || t === '((void)0)' || t === 'do{}while(0)';
}

/**
 * The shape of a conditional, or null when it is not a compile-out wrapper. `parse` parses a
 * snippet; the caller owns (and deletes) the trees it returns.
 */
export function wrapperShape(f: ParsedFile, c: Conditional, parse: (text: string) => Tree): Wrapper | null {
  if (c.includeGuard || !c.closed || c.branches.length !== 2) return null;
  const [b0, b1] = c.branches;
  if (b0.kind !== 'if' || b1.kind !== 'else') return null;
  const flag = soleIdentifier(b0.expr);
  if (!flag) return null;
  const elseText = f.text.slice(f.lines.start(b1.endLine + 1), f.lines.start(c.endLine));
  const ifText = f.text.slice(f.lines.start(b0.endLine + 1), f.lines.start(b1.line));
  if (!ifText.trim() || !elseText.trim()) return null;
  const shape: Wrapper = { flag, kind: 'statement', ifLine: b0.line, elseLine: b1.line, endLine: c.endLine };
  // A wrapped #define: both branches define the same macro, the #else one as a no-op.
  const elseDefs = f.pp.defines.filter((d) => d.line > b1.endLine && d.line < c.endLine);
  if (elseDefs.length) {
    const ifDefs = f.pp.defines.filter((d) => d.line > b0.endLine && d.line < b1.line);
    const ok = elseDefs.length === 1 && ifDefs.length === 1 && ifDefs[0].name === elseDefs[0].name && isNoOpBody(elseDefs[0].value ?? '');
    return ok ? { ...shape, kind: 'macro' } : null;
  }
  const tree = parse(`void __alloc_lens_else(void) {\n${elseText}\n}\n`);
  const body = tree.rootNode.namedChildren[0]?.childForFieldName('body');
  if (!body || body.hasError) return null;
  let statements = 0;
  for (const s of body.namedChildren) {
    if (!s || s.type === 'comment') continue;
    if (s.type !== 'expression_statement' || !isVoidCast(s.namedChildren[0] ?? null)) return null;
    statements++;
  }
  return statements > 0 ? shape : null;
}

/** The wrapper whose #if branch holds `line` (the innermost, looking through nested #ifs). */
export function wrapperAround(f: ParsedFile, line: number, parse: (text: string) => Tree): Wrapper | null {
  let best: Conditional | null = null;
  let bestIndex = -1;
  f.pp.conditionals.forEach((c, i) => {
    if (c.startLine < line && line < c.endLine && (!best || c.startLine >= best.startLine)) {
      best = c;
      bestIndex = i;
    }
  });
  for (let i: number | null = bestIndex; i !== null && i >= 0; i = f.pp.conditionals[i].parent) {
    const c = f.pp.conditionals[i];
    const w = wrapperShape(f, c, parse);
    if (w && line > c.branches[0].endLine && line < c.branches[1].line) return w;
  }
  return null;
}

/** Every wrapper of `flag` in the file. */
export function wrappersOf(f: ParsedFile, flag: string, parse: (text: string) => Tree): Wrapper[] {
  const out: Wrapper[] = [];
  for (const c of f.pp.conditionals) {
    if (c.branches[0]?.kind !== 'if' || soleIdentifier(c.branches[0].expr) !== flag) continue;
    const w = wrapperShape(f, c, parse);
    if (w) out.push(w);
  }
  return out;
}

/** A single-branch `#if X` around `line` where X is one of `offByDefault` (the Phase 29 shape without #else). */
export function offByDefaultGuard(f: ParsedFile, line: number, offByDefault: ReadonlySet<string>): string | null {
  for (const c of f.pp.conditionals) {
    if (c.includeGuard || c.branches.length !== 1 || c.branches[0].kind !== 'if') continue;
    if (!(c.startLine < line && line < c.endLine)) continue;
    const flag = soleIdentifier(c.branches[0].expr);
    if (flag && offByDefault.has(flag)) return flag;
  }
  return null;
}
