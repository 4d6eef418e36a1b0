// The default of an ENV gate: run the function that reads it with getenv() returning NULL, over
// the tree, and see what it returns (or stores). A tiny interpreter for the shapes gate parsers
// take: `(e && *e && *e != '0') ? 1 : 0` (OFF), `(e && *e == '0') ? 0 : 1` (ON),
// `if (e == NULL || *e == '\0') return 64;`, lazy `static int g = -1; if (g < 0) {...}` caches,
// and wrappers whose default is a parameter (`env_flag("X", 1)`). Anything else is unknown.
import type { SyntaxNode as Node } from '../parsing/flatTree';

export type GateValue =
  | { kind: 'pending' }
  | { kind: 'unknown' }
  | { kind: 'number'; value: number; boolean: boolean }
  | { kind: 'param'; index: number; boolean: boolean };

type Val = number | null | { str: true } | { param: number } | undefined;

class Stop {
  constructor(readonly value: Val) {}
}

const MAX_STEPS = 2000;

export function evaluateGateDefault(fn: Node, text: string): { value: GateValue; cachedIn: string | null; staticLocal: string | null } {
  void text;
  const params = new Map<string, number>();
  let decl = fn.childForFieldName('declarator');
  while (decl && decl.type !== 'function_declarator') decl = decl.childForFieldName('declarator');
  (decl?.childForFieldName('parameters')?.namedChildren ?? []).forEach((p, i) => {
    let d = p?.childForFieldName('declarator') ?? null;
    while (d && d.type !== 'identifier') d = d.childForFieldName('declarator');
    if (d) params.set(d.text, i);
  });
  const interp = new Interpreter(params);
  const body = fn.childForFieldName('body');
  let result: Val;
  try {
    if (body) interp.exec(body);
    result = interp.lastStore?.value;
  } catch (e) {
    if (!(e instanceof Stop)) return { value: { kind: 'unknown' }, cachedIn: null, staticLocal: null };
    result = e.value;
  }
  const boolean = body ? returnsBoolean(body, new Set(params.keys())) : false;
  const cachedIn = interp.lastStore?.name ?? null;
  const staticLocal = interp.statics.size ? [...interp.statics][0] : null;
  let value: GateValue = { kind: 'unknown' };
  if (typeof result === 'number') value = { kind: 'number', value: result, boolean: boolean || (result !== 0 && result !== 1 ? false : storesBoolean(interp)) };
  else if (result && typeof result === 'object' && 'param' in result) value = { kind: 'param', index: result.param, boolean };
  return { value, cachedIn, staticLocal };
}

function storesBoolean(interp: Interpreter): boolean {
  return interp.lastStore?.boolean ?? false;
}

class Interpreter {
  readonly env = new Map<string, Val>();
  readonly statics = new Set<string>();
  lastStore: { name: string; value: Val; boolean: boolean } | null = null;
  private steps = 0;
  private readonly locals = new Set<string>();

  constructor(params: Map<string, number>) {
    for (const [name, index] of params) {
      this.env.set(name, { param: index });
      this.locals.add(name);
    }
  }

  exec(n: Node): void {
    if (++this.steps > MAX_STEPS) throw new Error('too many steps');
    switch (n.type) {
      case 'compound_statement':
        for (const c of n.namedChildren) if (c) this.exec(c);
        return;
      case 'declaration': {
        const isStatic = n.namedChildren.some((c) => c?.type === 'storage_class_specifier' && c.text === 'static');
        for (const d of n.childrenForFieldName('declarator')) {
          if (!d) continue;
          const name = nameOf(d);
          if (!name) continue;
          this.locals.add(name);
          if (isStatic) this.statics.add(name);
          const value = d.type === 'init_declarator' ? d.childForFieldName('value') : null;
          this.env.set(name, value ? this.eval(value) : undefined);
        }
        return;
      }
      case 'expression_statement': {
        const e = n.namedChildren[0];
        if (e) this.evalEffect(e);
        return;
      }
      case 'if_statement': {
        const c = truthy(this.eval(n.childForFieldName('condition')));
        if (c === undefined) throw new Stop(undefined);
        const branch = c ? n.childForFieldName('consequence') : n.childForFieldName('alternative');
        if (branch) this.exec(branch.type === 'else_clause' ? (branch.namedChildren[0] ?? branch) : branch);
        return;
      }
      case 'else_clause':
        for (const c of n.namedChildren) if (c) this.exec(c);
        return;
      case 'return_statement': {
        const e = n.namedChildren[0];
        throw new Stop(e ? this.eval(e) : undefined);
      }
      case 'comment':
      case 'preproc_call':
        return;
      default:
        // Loops, switches, gotos: not followed; what they would change becomes unknown.
        for (const name of assignedNames(n)) this.env.set(name, undefined);
    }
  }

  private evalEffect(e: Node): void {
    if (e.type === 'assignment_expression') {
      const left = e.childForFieldName('left');
      const right = e.childForFieldName('right');
      const op = e.text.slice((left?.endIndex ?? e.startIndex) - e.startIndex, (right?.startIndex ?? e.startIndex) - e.startIndex).trim();
      const value = op === '=' && right ? this.eval(right) : undefined;
      if (left?.type === 'identifier') {
        this.env.set(left.text, value);
        if (!this.locals.has(left.text) || this.statics.has(left.text)) {
          this.lastStore = { name: left.text, value, boolean: right ? isBooleanExpr(right) : false };
        }
      }
      return;
    }
    if (e.type === 'comma_expression') {
      for (const c of e.namedChildren) if (c) this.evalEffect(c);
    }
  }

  eval(n: Node | null): Val {
    if (!n) return undefined;
    if (++this.steps > MAX_STEPS) throw new Error('too many steps');
    switch (n.type) {
      case 'parenthesized_expression':
        return this.eval(n.namedChildren.find((c) => c?.type !== 'comment') ?? null);
      case 'cast_expression':
        return this.eval(n.childForFieldName('value'));
      case 'number_literal':
        return parseNumber(n.text);
      case 'char_literal':
        return charValue(n.text);
      case 'true':
        return 1;
      case 'false':
        return 0;
      case 'null':
        return null;
      case 'string_literal':
        return { str: true };
      case 'identifier':
        if (n.text === 'NULL') return null;
        return this.env.has(n.text) ? this.env.get(n.text) : undefined;
      case 'call_expression': {
        const callee = n.childForFieldName('function')?.text ?? '';
        const args = n.childForFieldName('arguments')?.namedChildren ?? [];
        if (callee === 'getenv' || callee === 'secure_getenv') return null;
        if (/likely/i.test(callee) || callee === '__builtin_expect') return this.eval(args[0] ?? null);
        return undefined;
      }
      case 'unary_expression': {
        const op = n.text.trim()[0];
        const v = this.eval(n.childForFieldName('argument'));
        if (op === '!') {
          const t = truthy(v);
          return t === undefined ? undefined : t ? 0 : 1;
        }
        if (typeof v !== 'number') return undefined;
        if (op === '-') return -v;
        if (op === '~') return ~v;
        return v;
      }
      case 'pointer_expression': {
        const v = this.eval(n.childForFieldName('argument'));
        return v === null ? undefined : undefined;
      }
      case 'conditional_expression': {
        const c = truthy(this.eval(n.childForFieldName('condition')));
        if (c === undefined) return undefined;
        return this.eval(c ? n.childForFieldName('consequence') : n.childForFieldName('alternative'));
      }
      case 'binary_expression': {
        const left = n.childForFieldName('left');
        const right = n.childForFieldName('right');
        const op = n.text.slice((left?.endIndex ?? n.startIndex) - n.startIndex, (right?.startIndex ?? n.startIndex) - n.startIndex).trim();
        const l = this.eval(left);
        if (op === '&&') {
          const lt = truthy(l);
          if (lt === false) return 0;
          const rt = truthy(this.eval(right));
          if (rt === false) return 0;
          return lt === true && rt === true ? 1 : undefined;
        }
        if (op === '||') {
          const lt = truthy(l);
          if (lt === true) return 1;
          const rt = truthy(this.eval(right));
          if (rt === true) return 1;
          return lt === false && rt === false ? 0 : undefined;
        }
        const r = this.eval(right);
        if ((op === '==' || op === '!=') && (l === null || r === null)) {
          const ln = l === null ? 0 : typeof l === 'number' ? l : undefined;
          const rn = r === null ? 0 : typeof r === 'number' ? r : undefined;
          if (ln === undefined || rn === undefined) {
            // A string (set) compared with NULL.
            if ((l && typeof l === 'object' && 'str' in l) || (r && typeof r === 'object' && 'str' in r)) return op === '==' ? 0 : 1;
            return undefined;
          }
          return (ln === rn) === (op === '==') ? 1 : 0;
        }
        if (typeof l !== 'number' || typeof r !== 'number') return undefined;
        switch (op) {
          case '==': return l === r ? 1 : 0;
          case '!=': return l !== r ? 1 : 0;
          case '<': return l < r ? 1 : 0;
          case '>': return l > r ? 1 : 0;
          case '<=': return l <= r ? 1 : 0;
          case '>=': return l >= r ? 1 : 0;
          case '+': return l + r;
          case '-': return l - r;
          case '*': return l * r;
          case '/': return r === 0 ? undefined : Math.trunc(l / r);
          case '%': return r === 0 ? undefined : l % r;
          case '<<': return l << r;
          case '>>': return l >> r;
          case '&': return l & r;
          case '|': return l | r;
          case '^': return l ^ r;
          default: return undefined;
        }
      }
      default:
        return undefined;
    }
  }
}

function truthy(v: Val): boolean | undefined {
  if (v === null) return false;
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v !== 0;
  if ('str' in v) return true;
  return undefined;
}

function parseNumber(text: string): number | undefined {
  const t = text.replace(/[uUlL]+$/, '');
  const n = /^0[xX]/.test(t) ? parseInt(t, 16) : /^0[bB]/.test(t) ? parseInt(t.slice(2), 2) : /^0\d/.test(t) ? parseInt(t, 8) : Number(t);
  return Number.isFinite(n) ? n : undefined;
}

function charValue(text: string): number | undefined {
  const m = /^'(\\?)(.*)'$/.exec(text);
  if (!m) return undefined;
  if (!m[1]) return m[2].length === 1 ? m[2].charCodeAt(0) : undefined;
  const esc: Record<string, number> = { '0': 0, n: 10, t: 9, r: 13, '\\': 92, "'": 39 };
  return esc[m[2]];
}

function nameOf(d: Node): string | null {
  let n: Node | null = d;
  for (let g = 0; n && g < 16; g++) {
    if (n.type === 'identifier') return n.text;
    n = n.childForFieldName('declarator');
  }
  return null;
}

function assignedNames(n: Node): string[] {
  const out: string[] = [];
  for (const a of n.descendantsOfType(['assignment_expression', 'update_expression'])) {
    const t = a?.childForFieldName('left') ?? a?.childForFieldName('argument');
    if (t?.type === 'identifier') out.push(t.text);
  }
  return out;
}

const BOOLEAN_OPS = /^(==|!=|<|>|<=|>=|&&|\|\|)$/;

/** A value that can only be 0 or 1: a comparison, a logical operator, `!x`, `c ? 1 : 0`. */
export function isBooleanExpr(n: Node | null): boolean {
  if (!n) return false;
  switch (n.type) {
    case 'parenthesized_expression':
      return isBooleanExpr(n.namedChildren[0] ?? null);
    case 'number_literal':
      return n.text === '0' || n.text === '1';
    case 'true':
    case 'false':
      return true;
    case 'unary_expression':
      return n.text.trim().startsWith('!');
    case 'binary_expression': {
      const left = n.childForFieldName('left');
      const right = n.childForFieldName('right');
      const op = n.text.slice((left?.endIndex ?? n.startIndex) - n.startIndex, (right?.startIndex ?? n.startIndex) - n.startIndex).trim();
      return BOOLEAN_OPS.test(op);
    }
    case 'conditional_expression':
      return isBooleanExpr(n.childForFieldName('consequence')) && isBooleanExpr(n.childForFieldName('alternative'));
    default:
      return false;
  }
}

/** Every `return v;` of the function returns a 0/1 value (a bare parameter is the caller's to say). */
function returnsBoolean(body: Node, params: Set<string>): boolean {
  const values = body.descendantsOfType('return_statement').map((r) => r?.namedChildren[0] ?? null);
  const own = values.filter((v) => !(v?.type === 'identifier' && params.has(v.text)));
  return own.length > 0 && own.every((v) => isBooleanExpr(v));
}
