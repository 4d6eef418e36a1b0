// `#if` expressions: pp-tokens, macro expansion through a MacroEnv, and evaluation in
// intmax_t / uintmax_t (C11 6.10.1) with a third value, "unknown", for macros the workspace
// cannot decide (compiler-predefined, -D flags not configured). Unknown spreads like a compiler
// would not: `0 && X` and `1 || X` stay known, everything else that touches X becomes unknown.
// Malformed input is unknown, never an exception.

/** The value of a `#if` expression, or unknown when it depends on something the workspace does not say. */
export type Tri = { known: true; value: bigint } | { known: false };

export type MacroLookup =
  | { defined: true; value: string; /** Present for function-like macros. */ params?: string[] }
  | { defined: false };

export interface MacroEnv {
  /** undefined = unknown (e.g. compiler-predefined macros). */
  lookup(name: string): MacroLookup | undefined;
  /**
   * The state a macro has before any workspace file defines it (extra defines, compiler macros).
   * A file's own `#ifndef X / #define X v` default is judged against this, not against the
   * workspace-wide value it produces itself. Optional: without it such names count as not defined.
   */
  lookupInitial?(name: string): MacroLookup | undefined;
}

export type PpTokenKind = 'id' | 'num' | 'char' | 'str' | 'punct';

export interface PpToken {
  kind: PpTokenKind;
  text: string;
  /** Offset of the token in the tokenized string. */
  offset: number;
}

const PUNCT3 = new Set(['<<=', '>>=', '...']);
const PUNCT2 = new Set(['&&', '||', '<<', '>>', '<=', '>=', '==', '!=', '->', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '##']);

function isIdStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36 || c >= 0x80;
}

function isIdPart(c: number): boolean {
  return isIdStart(c) || (c >= 48 && c <= 57);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Splits a directive's operand into pp-tokens. Comments are skipped; it never throws. */
export function tokenizePp(s: string, from = 0): PpToken[] {
  const out: PpToken[] = [];
  const n = s.length;
  let i = from;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12) {
      i++;
      continue;
    }
    if (c === 47 && s.charCodeAt(i + 1) === 42) {
      const e = s.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
      continue;
    }
    if (c === 47 && s.charCodeAt(i + 1) === 47) break;
    const start = i;
    if (isIdStart(c)) {
      i++;
      while (i < n && isIdPart(s.charCodeAt(i))) i++;
      const q = s.charCodeAt(i);
      const word = s.slice(start, i);
      if ((q === 39 || q === 34) && (word === 'L' || word === 'u' || word === 'U' || word === 'u8')) {
        i = skipQuoted(s, i);
        out.push({ kind: q === 39 ? 'char' : 'str', text: s.slice(start, i), offset: start });
        continue;
      }
      out.push({ kind: 'id', text: word, offset: start });
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(s.charCodeAt(i + 1)))) {
      i++;
      while (i < n) {
        const d = s.charCodeAt(i);
        if ((d === 43 || d === 45) && /[eEpP]/.test(s[i - 1])) i++;
        else if (d === 39 && isIdPart(s.charCodeAt(i + 1))) i += 2; // C23 digit separator
        else if (isIdPart(d) || d === 46) i++;
        else break;
      }
      out.push({ kind: 'num', text: s.slice(start, i), offset: start });
      continue;
    }
    if (c === 39 || c === 34) {
      i = skipQuoted(s, i);
      out.push({ kind: c === 39 ? 'char' : 'str', text: s.slice(start, i), offset: start });
      continue;
    }
    const three = s.slice(i, i + 3);
    const two = three.slice(0, 2);
    const len = PUNCT3.has(three) ? 3 : PUNCT2.has(two) ? 2 : 1;
    i += len;
    out.push({ kind: 'punct', text: s.slice(start, i), offset: start });
  }
  return out;
}

function skipQuoted(s: string, i: number): number {
  const q = s.charCodeAt(i);
  let j = i + 1;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c === q) return j + 1;
    if (c === 10) return j;
    j += c === 92 ? 2 : 1;
  }
  return s.length;
}

// ---- evaluation -------------------------------------------------------------------------

/** A value in the preprocessor's arithmetic: intmax_t, or uintmax_t when `u`. */
interface Val {
  v: bigint;
  u: boolean;
}
type TV = Val | null; // null: unknown

/** Thrown for syntax errors and blown limits; evaluateIf turns it into unknown. */
class Malformed extends Error {}

type ETok = { k: 'v'; val: TV } | { k: 'p'; text: string };

const MAX_EXPANSIONS = 4096;
const MAX_TOKENS = 20_000;
const MAX_NESTING = 500;
const UNKNOWN: Tri = { known: false };
const ZERO: Val = { v: 0n, u: false };
const ONE: Val = { v: 1n, u: false };

const tokenCache = new Map<string, PpToken[]>();
function tokensOf(body: string): PpToken[] {
  let t = tokenCache.get(body);
  if (!t) {
    if (tokenCache.size > 5000) tokenCache.clear();
    t = tokenizePp(body);
    tokenCache.set(body, t);
  }
  return t;
}

/** Evaluates a `#if` / `#elif` operand; unknown when it depends on unknown macros or is malformed. Never throws. */
export function evaluateIf(expr: string, env: MacroEnv): Tri {
  try {
    const toks = expand(tokenizePp(expr), env);
    const p = new Parser(toks);
    const v = p.comma();
    if (p.pos !== toks.length) throw new Malformed('trailing tokens');
    return v ? { known: true, value: v.v } : UNKNOWN;
  } catch {
    // Malformed input, or a RangeError from pathological nesting: both mean "cannot tell".
    return UNKNOWN;
  }
}

interface QTok {
  t: PpToken;
  /** Macros being expanded where this token came from (C11 6.10.3.4: they are not expanded again). */
  hide: ReadonlySet<string> | null;
}

/** Replaces `defined`, macros and leftover identifiers with values, as translation phase 4 does for #if. */
function expand(tokens: PpToken[], env: MacroEnv): ETok[] {
  const out: ETok[] = [];
  // A stack whose top is the next token: expansions are pushed in front of what follows them.
  const stack: QTok[] = [];
  for (let i = tokens.length - 1; i >= 0; i--) stack.push({ t: tokens[i], hide: null });
  let expansions = 0;
  const peekIsParen = () => stack.length > 0 && stack[stack.length - 1].t.text === '(';
  const skipArgs = () => {
    stack.pop();
    let depth = 1;
    while (depth > 0) {
      const q = stack.pop();
      if (!q) throw new Malformed('unterminated macro arguments');
      if (q.t.text === '(') depth++;
      else if (q.t.text === ')') depth--;
    }
  };
  while (stack.length) {
    if (out.length > MAX_TOKENS) throw new Malformed('expansion too large');
    const { t, hide } = stack.pop()!;
    if (t.kind === 'num') {
      out.push({ k: 'v', val: parseNumber(t.text) });
      continue;
    }
    if (t.kind === 'char') {
      out.push({ k: 'v', val: parseChar(t.text) });
      continue;
    }
    if (t.kind === 'str') throw new Malformed('string in #if');
    if (t.kind === 'punct') {
      out.push({ k: 'p', text: t.text });
      continue;
    }
    const name = t.text;
    if (name === 'defined') {
      let q = stack.pop();
      const paren = q?.t.text === '(';
      if (paren) q = stack.pop();
      if (!q || q.t.kind !== 'id') throw new Malformed('defined without a name');
      if (paren && stack.pop()?.t.text !== ')') throw new Malformed('defined( without )');
      const r = env.lookup(q.t.text);
      out.push({ k: 'v', val: r === undefined ? null : r.defined ? ONE : ZERO });
      continue;
    }
    if (hide?.has(name)) {
      out.push({ k: 'v', val: ZERO }); // a macro inside its own expansion is a plain identifier: 0
      continue;
    }
    const r = env.lookup(name);
    if (r === undefined || !r.defined) {
      if (name === 'true' || name === 'false') {
        out.push({ k: 'v', val: name === 'true' ? ONE : ZERO }); // C23 keywords, or <stdbool.h>
        continue;
      }
      if (r === undefined) {
        // An unknown name called like a function: __has_include(<x.h>), __GNUC_PREREQ(4, 7).
        if (peekIsParen()) skipArgs();
        out.push({ k: 'v', val: null });
        continue;
      }
      out.push({ k: 'v', val: ZERO });
      continue;
    }
    if (r.params) {
      // Function-like: only an invocation expands; we do not substitute arguments.
      if (peekIsParen()) {
        skipArgs();
        out.push({ k: 'v', val: null });
      } else out.push({ k: 'v', val: ZERO });
      continue;
    }
    if (++expansions > MAX_EXPANSIONS) throw new Malformed('expansion limit');
    const inner = new Set(hide ?? []);
    inner.add(name);
    const body = tokensOf(r.value);
    for (let i = body.length - 1; i >= 0; i--) stack.push({ t: body[i], hide: inner });
  }
  return out;
}

const NUMBER = /^(?:0[xX]([0-9a-fA-F]+)|0[bB]([01]+)|(0[0-7]*)|([1-9][0-9]*))(u|U|l|L|ul|uL|Ul|UL|lu|lU|Lu|LU|ll|LL|ull|uLL|Ull|ULL|llu|llU|LLu|LLU|z|Z|uz|uZ|Uz|UZ|zu|zU|Zu|ZU)?$/;
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

function parseNumber(text: string): Val {
  const m = NUMBER.exec(text.replace(/'/g, ''));
  if (!m) throw new Malformed(`not an integer: ${text}`); // floats, bad digits
  const v = m[1] !== undefined ? BigInt('0x' + m[1]) : m[2] !== undefined ? BigInt('0b' + m[2]) : m[3] !== undefined ? BigInt('0o' + (m[3].slice(1) || '0')) : BigInt(m[4]);
  if (v > UINT64_MAX) throw new Malformed('integer constant too large');
  // Too big for intmax_t: the constant is unsigned (what GCC and Clang do, with a warning).
  return { v, u: /[uU]/.test(m[5] ?? '') || v > INT64_MAX };
}

const ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, e: 27, '\\': 92, "'": 39, '"': 34, '?': 63 };

function parseChar(text: string): TV {
  const q = text.indexOf("'");
  const prefix = text.slice(0, q);
  if (!text.endsWith("'") || text.length < q + 3) throw new Malformed('bad character constant');
  const body = text.slice(q + 1, -1);
  const units: number[] = [];
  for (let i = 0; i < body.length; ) {
    if (body[i] !== '\\') {
      units.push(body.codePointAt(i)!);
      i += units[units.length - 1] > 0xffff ? 2 : 1;
      continue;
    }
    const e = body[i + 1] ?? '';
    if (/[0-7]/.test(e)) {
      const m = /^[0-7]{1,3}/.exec(body.slice(i + 1))!;
      units.push(parseInt(m[0], 8));
      i += 1 + m[0].length;
    } else if (e === 'x') {
      const m = /^[0-9a-fA-F]+/.exec(body.slice(i + 2));
      if (!m) throw new Malformed('bad \\x escape');
      units.push(parseInt(m[0].slice(-8), 16));
      i += 2 + m[0].length;
    } else if (e === 'u' || e === 'U') {
      const len = e === 'u' ? 4 : 8;
      const h = body.slice(i + 2, i + 2 + len);
      if (!/^[0-9a-fA-F]+$/.test(h) || h.length !== len) throw new Malformed('bad UCN');
      units.push(parseInt(h, 16));
      i += 2 + len;
    } else {
      units.push(ESCAPES[e] ?? e.charCodeAt(0));
      i += 2;
    }
  }
  if (prefix === '') {
    // Plain char: its signedness is the target's choice, so only ASCII is certain.
    if (units.some((u) => u > 127)) return null;
    if (units.length > 4) return null;
    let v = 0n;
    for (const u of units) v = (v << 8n) | BigInt(u); // GCC's multi-character constant
    return { v, u: false };
  }
  if (units.length !== 1 || units[0] > 0x7fff) return null; // wchar_t width is the target's choice
  return { v: BigInt(units[0]), u: false };
}

const PREC: Record<string, number> = {
  '||': 1,
  '&&': 2,
  '|': 3,
  '^': 4,
  '&': 5,
  '==': 6,
  '!=': 6,
  '<': 7,
  '>': 7,
  '<=': 7,
  '>=': 7,
  '<<': 8,
  '>>': 8,
  '+': 9,
  '-': 9,
  '*': 10,
  '/': 10,
  '%': 10,
};

function norm(v: bigint, u: boolean): Val {
  return { v: u ? BigInt.asUintN(64, v) : BigInt.asIntN(64, v), u };
}

const truth = (b: boolean): Val => (b ? ONE : ZERO);

function binary(op: string, a: TV, b: TV): TV {
  // Short-circuit and absorbing operands: known even when the other side is not.
  if (op === '&&') {
    if ((a && a.v === 0n) || (b && b.v === 0n)) return ZERO;
    return a && b ? ONE : null;
  }
  if (op === '||') {
    if ((a && a.v !== 0n) || (b && b.v !== 0n)) return ONE;
    return a && b ? ZERO : null;
  }
  if ((op === '*' || op === '&') && ((a && a.v === 0n) || (b && b.v === 0n))) return ZERO;
  if (!a || !b) return null;
  if (op === '<<' || op === '>>') {
    const n = b.v;
    if (n < 0n || n >= 64n) return null; // undefined behaviour: the compiler's choice
    return norm(op === '<<' ? a.v << n : a.v >> n, a.u); // the left operand's type; >> of a negative is arithmetic (GCC)
  }
  const u = a.u || b.u; // usual arithmetic conversions
  const x = u ? BigInt.asUintN(64, a.v) : a.v;
  const y = u ? BigInt.asUintN(64, b.v) : b.v;
  switch (op) {
    case '*':
      return norm(x * y, u);
    case '/':
    case '%':
      if (y === 0n) return null;
      if (!u && x === -INT64_MAX - 1n && y === -1n) return null; // overflow
      return norm(op === '/' ? x / y : x % y, u);
    case '+':
      return norm(x + y, u);
    case '-':
      return norm(x - y, u);
    case '<':
      return truth(x < y);
    case '>':
      return truth(x > y);
    case '<=':
      return truth(x <= y);
    case '>=':
      return truth(x >= y);
    case '==':
      return truth(x === y);
    case '!=':
      return truth(x !== y);
    case '&':
      return norm(x & y, u);
    case '^':
      return norm(x ^ y, u);
    case '|':
      return norm(x | y, u);
  }
  throw new Malformed(`operator ${op}`);
}

class Parser {
  pos = 0;
  private depth = 0;
  constructor(private readonly toks: ETok[]) {}

  private peek(): string | undefined {
    const t = this.toks[this.pos];
    return t?.k === 'p' ? t.text : undefined;
  }

  private expect(text: string): void {
    if (this.peek() !== text) throw new Malformed(`expected ${text}`);
    this.pos++;
  }

  private enter(): void {
    if (++this.depth > MAX_NESTING) throw new Malformed('nesting too deep');
  }

  comma(): TV {
    let v = this.conditional();
    while (this.peek() === ',') {
      this.pos++;
      v = this.conditional();
    }
    return v;
  }

  private conditional(): TV {
    const c = this.binaryExpr(1);
    if (this.peek() !== '?') return c;
    this.pos++;
    this.enter();
    const a = this.comma();
    this.expect(':');
    const b = this.conditional();
    this.depth--;
    const u = (a?.u ?? false) || (b?.u ?? false);
    const conv = (x: TV) => (x ? norm(x.v, u) : null);
    if (c) return conv(c.v !== 0n ? a : b);
    const ca = conv(a);
    const cb = conv(b);
    return ca && cb && ca.v === cb.v ? ca : null;
  }

  private binaryExpr(min: number): TV {
    let left = this.unary();
    for (;;) {
      const op = this.peek();
      const p = op === undefined ? undefined : PREC[op];
      if (p === undefined || p < min) return left;
      this.pos++;
      this.enter();
      const right = this.binaryExpr(p + 1);
      this.depth--;
      left = binary(op!, left, right);
    }
  }

  private unary(): TV {
    const t = this.toks[this.pos];
    if (!t) throw new Malformed('missing operand');
    if (t.k === 'v') {
      this.pos++;
      return t.val;
    }
    this.pos++;
    this.enter();
    let r: TV;
    switch (t.text) {
      case '(':
        r = this.comma();
        this.expect(')');
        break;
      case '!': {
        const v = this.unary();
        r = v && truth(v.v === 0n);
        break;
      }
      case '~': {
        const v = this.unary();
        r = v && norm(~v.v, v.u);
        break;
      }
      case '-': {
        const v = this.unary();
        r = v && (!v.u && v.v === -INT64_MAX - 1n ? null : norm(-v.v, v.u));
        break;
      }
      case '+':
        r = this.unary();
        break;
      default:
        throw new Malformed(`unexpected ${t.text}`);
    }
    this.depth--;
    return r;
  }
}
