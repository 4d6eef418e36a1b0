// What the compile-out fix needs to know about the C around a write site, read from the
// tree-sitter tree: the statement it is (or why its value is used), whether the statement has its
// lines to itself, and the locals that only the wrapped code uses.
import type { Node } from 'web-tree-sitter';
import { atomicOpOf } from '../analysis/facts';
import { isAtomicBuiltin } from '../parsing/scan';
import type { ParsedFile } from './textEdits';

export type Located = { stmt: Node } | { reason: string };

/** The expressions a write site is: a call (of a builtin or wrapper), `x++`, `x += n`. */
const SITES = new Set(['call_expression', 'update_expression', 'assignment_expression']);

/** From the node at the site's first character out to the site expression, never further. */
function extendsSite(p: Node, child: Node): boolean {
  switch (p.type) {
    case 'call_expression':
      return !!p.childForFieldName('function')?.equals(child);
    case 'update_expression':
      return true;
    case 'assignment_expression':
      return !!p.childForFieldName('left')?.equals(child);
    case 'field_expression':
    case 'subscript_expression':
      return !!p.childForFieldName('argument')?.equals(child);
    default:
      return false;
  }
}

function isVoidCast(n: Node): boolean {
  return n.type === 'cast_expression' && (n.childForFieldName('type')?.text.replace(/\s+/g, '') ?? '') === 'void';
}

/** Why a value-using context cannot be wrapped, by the parent's node type. */
function usedReason(parent: Node, child: Node): string {
  switch (parent.type) {
    case 'comma_expression':
      return 'it is part of a comma expression: put it in a statement of its own first';
    case 'assignment_expression':
      return 'its value is assigned';
    case 'init_declarator':
      return 'its value initializes a variable';
    case 'argument_list':
      return 'its value is passed to a call';
    case 'return_statement':
      return 'its value is returned';
    case 'conditional_expression':
      return 'it sits inside a ?: expression';
    case 'subscript_expression':
      return 'its value indexes memory';
    case 'if_statement':
    case 'while_statement':
    case 'do_statement':
    case 'switch_statement':
      return 'its value is tested in a condition';
    case 'for_statement':
      return 'it sits in a for header';
    case 'binary_expression':
    case 'unary_expression':
    case 'update_expression':
    case 'pointer_expression':
      return 'its value is used in an expression';
    case 'cast_expression':
      return 'its value is cast and used';
    case 'ERROR':
      return 'the code around it does not parse cleanly';
    default:
      return `its value is used (in a ${parent.type.replace(/_/g, ' ')}${child.type === 'ERROR' ? ' with parse errors' : ''})`;
  }
}

/**
 * The expression statement a write site is, or why it cannot be wrapped on its own: the site's
 * value must be discarded (a plain statement, possibly cast to void). The caller still checks
 * the statement for directives and parse errors.
 */
export function statementAt(f: ParsedFile, line: number, column: number, callee: string): Located {
  const off = f.lines.offset(line, column);
  const stale = { reason: 'the file changed since the analysis: run the fix again' };
  if (line > f.lines.count || off >= f.text.length) return stale;
  let n = f.tree().rootNode.descendantForIndex(off);
  if (n && !n.isNamed) n = n.parent;
  if (!n) return stale;
  while (n.parent && n.parent.startIndex === off && extendsSite(n.parent, n)) n = n.parent;
  if (!SITES.has(n.type)) return stale;
  if (/^\w+$/.test(callee) ? !f.text.startsWith(callee, off) : !n.text.includes(callee)) return stale;
  for (let cur: Node = n; ; ) {
    const p: Node | null = cur.parent;
    if (!p) return { reason: 'it is not inside a statement' };
    if (p.type === 'parenthesized_expression' || isVoidCast(p)) {
      cur = p;
      continue;
    }
    if (p.type === 'expression_statement') {
      if (!p.parent || p.parent.type === 'translation_unit') return { reason: 'it is outside any function' };
      return { stmt: p };
    }
    return { reason: usedReason(p, cur) };
  }
}

/** Statements that can sit next to each other in one wrapper (a braceless body cannot). */
const BLOCKS = new Set(['compound_statement', 'case_statement', 'preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'preproc_elifdef']);

/** The next statement after `s` in its block, skipping comments; null in a braceless body. */
export function nextStatement(s: Node): Node | null {
  if (!s.parent || !BLOCKS.has(s.parent.type)) return null;
  for (let n = s.nextNamedSibling; n; n = n.nextNamedSibling) if (n.type !== 'comment') return n;
  return null;
}

/** Does the statement start its line (only blanks before it)? */
export function ownsStart(f: ParsedFile, start: number): boolean {
  return f.text.slice(f.lines.start(f.lines.lineOf(start)), start).trim() === '';
}

/**
 * Where the wrapped text may end on the statement's last line: after the statement and any
 * comments that end on that line. `owned` is false when other code follows on the line.
 */
export function ownedEnd(f: ParsedFile, end: number): { owned: boolean; at: number } {
  const line = f.lines.lineOf(Math.max(end - 1, 0));
  const lineEnd = f.lines.contentEnd(line);
  let at = end;
  for (let guard = 0; guard < 64; guard++) {
    while (at < lineEnd && (f.text[at] === ' ' || f.text[at] === '\t')) at++;
    if (at >= lineEnd) return { owned: true, at: lineEnd };
    const n = f.tree().rootNode.descendantForIndex(at);
    if (n && n.type === 'comment' && n.startIndex === at && n.endIndex <= lineEnd) {
      at = n.endIndex;
      continue;
    }
    break;
  }
  return { owned: false, at: end };
}

function declaratorIdentifier(d: Node | null): Node | null {
  for (let guard = 0; d && guard < 16; guard++) {
    if (d.type === 'identifier') return d;
    d = d.childForFieldName('declarator');
  }
  return null;
}

interface Declaration {
  name: Node;
  /** Where the name is visible: the enclosing block (locals) or the function body (parameters). */
  scope: Node;
}

/** The declaration of local or parameter `name` visible at `from`, walking out to the function. */
function declarationOf(name: string, from: Node): Declaration | null {
  let child: Node = from;
  for (let anc = from.parent; anc; child = anc, anc = anc.parent) {
    if (anc.type === 'function_definition') {
      let fd = anc.childForFieldName('declarator');
      while (fd && fd.type !== 'function_declarator') fd = fd.childForFieldName('declarator');
      const body = anc.childForFieldName('body');
      for (const p of fd?.childForFieldName('parameters')?.namedChildren ?? []) {
        const id = p?.type === 'parameter_declaration' ? declaratorIdentifier(p.childForFieldName('declarator')) : null;
        if (id && id.text === name && body) return { name: id, scope: body };
      }
      return null;
    }
    let found: Declaration | null = null;
    const scanDecl = (d: Node, scope: Node) => {
      for (const decl of d.childrenForFieldName('declarator')) {
        const id = declaratorIdentifier(decl);
        if (id && id.text === name) found = { name: id, scope };
      }
    };
    if (anc.type === 'for_statement') {
      const init = anc.childForFieldName('initializer');
      if (init?.type === 'declaration' && init.startIndex < child.startIndex) scanDecl(init, anc);
    } else if (BLOCKS.has(anc.type)) {
      let scope: Node | null = anc;
      while (scope && scope.type !== 'compound_statement') scope = scope.parent;
      for (const c of anc.namedChildren) {
        if (!c || c.startIndex >= child.startIndex) break;
        if (c.type === 'declaration') scanDecl(c, scope ?? anc);
      }
    }
    if (found) return found;
  }
  return null;
}

/**
 * Locals and parameters that only the wrapped statements use: with the flag at 0 they would be
 * unused (-Wunused-variable / -Wunused-but-set-variable / -Wunused-parameter), so the #else
 * branch names them, `(void)x;`, instead of `(void)0;`. `wrapped` are every range the fix wraps
 * in this file (a local used by two wrapped sites is still unused).
 */
export function onlyUsedByWrapped(group: readonly Node[], wrapped: readonly [number, number][]): string[] {
  const names = new Set<string>();
  for (const s of group) for (const id of s.descendantsOfType('identifier')) if (id) names.add(id.text);
  const out: string[] = [];
  const inWrapped = (i: number) => wrapped.some(([a, b]) => i >= a && i < b);
  for (const name of names) {
    const decl = declarationOf(name, group[0]);
    if (!decl) continue;
    const used = decl.scope
      .descendantsOfType('identifier')
      .some((id) => !!id && id.text === name && id.startIndex > decl.name.startIndex && !inWrapped(id.startIndex));
    if (!used) out.push(name);
  }
  return out.sort();
}

/** The identifier an lvalue is rooted at: `g_x` for `&g_x[i].f`, `(g_x.a)`, `*g_p`. */
export function rootIdentifier(n: Node | null): string | null {
  for (let guard = 0; n && guard < 32; guard++) {
    switch (n.type) {
      case 'identifier':
        return n.text;
      case 'parenthesized_expression':
        n = n.namedChildren.find((c) => c?.type !== 'comment') ?? null;
        break;
      case 'cast_expression':
        n = n.childForFieldName('value');
        break;
      case 'pointer_expression':
      case 'field_expression':
      case 'subscript_expression':
        n = n.childForFieldName('argument');
        break;
      default:
        return null;
    }
  }
  return null;
}

/** Does the code under `root` write to an object rooted at `family` (atomic builtin, ++, =, +=)? */
export function writesTo(root: Node, family: string): boolean {
  for (const n of root.descendantsOfType(['call_expression', 'update_expression', 'assignment_expression'])) {
    if (!n) continue;
    if (n.type === 'call_expression') {
      const callee = n.childForFieldName('function');
      if (callee?.type !== 'identifier' || !isAtomicBuiltin(callee.text) || atomicOpOf(callee.text) === 'load') continue;
      if (rootIdentifier(n.childForFieldName('arguments')?.namedChildren[0] ?? null) === family) return true;
    } else if (rootIdentifier(n.childForFieldName(n.type === 'update_expression' ? 'argument' : 'left')) === family) return true;
  }
  return false;
}
