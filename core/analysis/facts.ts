// Per-file facts: one walk over a parsed C file turns it into plain data (functions, calls, atomic
// operations, reads of objects, getenv calls, preset calls, declarations). The workspace analysis
// (analyze.ts) joins the facts of every file; nothing here looks across files.
//
// The walk runs over a flat copy of the tree (core/parsing/flatTree.ts), not web-tree-sitter's
// cursor, whose every call crosses into wasm; it keeps its own stack of frames for the parents.
// Uses of a value (is it printed, tested, returned...) are classified when the enclosing function
// ends, because some of what decides them (an operator, whether an `if` body only prints) is only
// seen after the value.
import type { Node, Tree } from 'web-tree-sitter';
import { flatten, type FlatLanguage, type FlatTree, type SyntaxNode } from '../parsing/flatTree';
import type { AtomicOp, EvidenceKind } from './report';
import { evaluateGateDefault, type GateValue } from './envDefault';
import { isAtomicBuiltin, isGetenv } from '../parsing/scan';

/** How an object is named: a global plus a field path, or a struct type plus a field path. */
export interface AccessKey {
  /** Global variable name, or struct/typedef name when the root is a typed local or parameter. */
  root: string;
  rootKind: 'global' | 'type' | 'local';
  path: string[];
  /** The expression as written, `g_pool_stats[ci].alloc_calls`. */
  text: string;
}

export interface Use {
  kind: EvidenceKind | 'print-guard' | 'local' | 'discard';
  /** For 'local': the local variable the value is stored in. For 'call': the callee. */
  name?: string;
  argIndex?: number;
  /** When the value went through a local first (`p = getenv(..); if (p) ...`), that local. */
  via?: string;
  line: number;
  column: number;
  text: string;
}

export interface SiteContext {
  /** Inside the unlikely side of a likely/unlikely-annotated branch. */
  slowBranch: boolean;
  /** Inside a branch that ends in an error return, errno or abort. */
  errorBranch: boolean;
  /** The innermost branch around the site also calls a refill/slow/miss-named function. */
  warmBranch: string | null;
  /** The innermost branch around the site also calls an init/mmap/madvise/error function. */
  coldBranch: string | null;
  /** Names tested by enclosing conditions the site depends on (gate candidates). */
  conditionNames: string[];
  /** Macros of the innermost preprocessor guard are added later by the preprocessor facts. */
}

export interface FunctionFact {
  name: string;
  line: number;
  endLine: number;
  isStatic: boolean;
  isConstructor: boolean;
  params: { name: string; type: string }[];
  /** Names of globals the function returns directly (`return g_x;`): getters of gate variables. */
  returnsGlobals: string[];
  /** The function calls setenv(param, param, 0) or the getenv-then-setenv shape: a set-if-unset helper. */
  setIfUnset: { nameParam: number; valueParam: number } | null;
  /** The function calls getenv(param): a getenv wrapper; the index of that parameter. */
  getenvParam: number | null;
  /** Atomic operation applied to (the pointee of) a parameter: an atomic wrapper function. */
  atomicParam: { param: number; op: AtomicOp; callee: string } | null;
}

export interface CallFact {
  callee: string;
  fn: number;
  line: number;
  column: number;
  ctx: SiteContext;
  /** Arguments that name an object (`&g.x`, `t->y`), for wrapper functions and macros. */
  args: { index: number; key: AccessKey; addressOf: boolean }[];
  /** String-literal arguments by index, for getenv wrappers and set-if-unset helpers. */
  strings: Record<number, string>;
  numbers: Record<number, string>;
  result: Use;
  /** Innermost enclosing `strcmp(sel, "NAME") == 0` branch: a profile preset context. */
  profile: { name: string; selector: string } | null;
}

export interface AtomicFact {
  callee: string;
  op: AtomicOp;
  order: string | null;
  key: AccessKey | null;
  fn: number;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  ctx: SiteContext;
  /** What happens to the value the operation returns. */
  result: Use;
  /** Where the operator form was used on an object (`x++` on an _Atomic), before we know it is atomic. */
  viaOperator: boolean;
  /** Other (non-target) arguments: `cas` evidence on the expected/desired objects. */
}

export interface ReadFact {
  key: AccessKey;
  fn: number;
  use: Use;
}

export interface GetenvFact {
  /** Variable name, or null when the name is not a string literal (a wrapper's parameter). */
  name: string | null;
  fn: number;
  line: number;
  column: number;
  /** Default when unset, inferred by running the enclosing function with getenv() = NULL. */
  value: GateValue;
  /** The static or global that keeps the parsed value, when the function stores it itself. */
  cachedIn: string | null;
  result: Use;
}

/** A function-like macro that wraps an atomic operation on a parameter, or prints. */
export interface MacroFact {
  name: string;
  line: number;
  params: string[];
  atomicParam: { param: number; op: AtomicOp; callee: string } | null;
  prints: boolean;
}

export interface FileFacts {
  functions: FunctionFact[];
  macros: MacroFact[];
  calls: CallFact[];
  atomics: AtomicFact[];
  reads: ReadFact[];
  getenvs: GetenvFact[];
  /** Globals assigned from a call: `g_x = parse_x();` (how a gate gets cached). */
  globalAssigns: { global: string; callee: string; fn: number; line: number }[];
  /** Globals (and struct fields as `Struct.field`) declared _Atomic or with an atomic_* type. */
  atomicDecls: string[];
  /** Declared type of each global: `g_quill_tcache_stats` → `quill_tcache_stats`. */
  globalTypes: Record<string, string>;
  /** typedef name → struct tag (`quill_tcache_stats` → `quill_tcache_stats`). */
  typedefs: Record<string, string>;
  /** 1-based lines where tree-sitter found ERROR / MISSING nodes (at most 20). */
  errorLines: number[];
}

export interface ExtractOptions {
  /** Parses a macro body on its own (wrapped in a function), to see what it expands to. */
  parseSnippet?: (text: string) => Tree;
  isPrintCallee(name: string): boolean;
  isWarmName(name: string): boolean;
  isColdName(name: string): boolean;
  isReportingFunction(name: string): boolean;
}

// ---------------------------------------------------------------------------------------------

interface Chain {
  root: string;
  path: string[];
}

/** One node on the walk's stack. Every field is declared up front: one object shape for all frames. */
class Frame {
  start = -1;
  end = -1;

  constructor(
    readonly type: string,
    readonly field: string | null,
    /** Index of this node among its parent's named + anonymous children. */
    readonly childIndex: number,
    /** Its children's field names matter (FIELD_PARENTS). */
    readonly fieldParent: boolean,
  ) {}

  /** binary/unary/assignment/update/pointer operator, looked up when the node is entered. */
  op: string | undefined = undefined;
  /** call_expression: the callee identifier, and the fact recorded for the call. */
  callee: string | undefined = undefined;
  call: CallFact | undefined = undefined;
  /** identifier/field/subscript/pointer/parenthesized/cast: the object named so far. */
  chain: Chain | undefined = undefined;
  /** assignment_expression: the callee of a call on its right-hand side. */
  rightCallee: string | undefined = undefined;
  /** assignment/update: where its target is written. */
  targetStart: number | undefined = undefined;
  targetEnd: number | undefined = undefined;
  /** if_statement and friends. */
  likely: 'likely' | 'unlikely' | undefined = undefined;
  negated: boolean | undefined = undefined;
  condNames: string[] | undefined = undefined;
  profile: { name: string; selector: string } | null | undefined = undefined;
  /** if_statement: its consequence / alternative contains an error exit or a warm/cold call. */
  errorExit: boolean | undefined = undefined;
  warmCall: string | null | undefined = undefined;
  coldCall: string | null | undefined = undefined;
  /** if_statement: the branch bodies do something else than printing. */
  nonPrint: boolean | undefined = undefined;
  /** if_statement: the branch bodies print. */
  prints: boolean | undefined = undefined;
  returns: boolean | undefined = undefined;
  /** compound_statement: names gated by earlier `if (!X) return;`, and "after a likely return". */
  guardNames: string[] | undefined = undefined;
  afterLikelyReturn: boolean | undefined = undefined;
  /** function_definition: its name. init_declarator: the declared name. */
  name: string | undefined = undefined;
}

/** What decides a site's context, captured when the site is seen and evaluated at function end. */
interface SiteRefs {
  ifs: { frame: Frame; branch: 'consequence' | 'alternative' | 'condition'; insideExpect: boolean }[];
  afterLikelyReturn: boolean;
  guardNames: string[];
}

/** A use whose kind is only known once the function ends (print guards, values kept in locals). */
interface PendingUse {
  use: Use;
  ifFrame?: Frame;
}

interface FunctionScope {
  index: number;
  node: SyntaxNode;
  start: number;
  locals: Map<string, { type: string; aliasOf: AccessKey | null }>;
  pendingUses: PendingUse[];
  sites: { refs: SiteRefs; apply: (ctx: SiteContext) => void }[];
  /** Uses of each local variable. */
  localUses: Map<string, PendingUse[]>;
  /** Locals that received a value worth following; only their uses are recorded. */
  tracked: Set<string>;
  getenvs: GetenvFact[];
  /** A dump/print/report function (ExtractOptions.isReportingFunction): its reads only feed output. */
  reporting: boolean;
}

/** `return NULL;`, `return -1;`, `return -EINVAL;`, `return MAP_FAILED;`: an error exit. */
const ERROR_RETURN = /^\(?\s*(NULL|\(void\s*\*\)\s*0|-\s*\d+|-?\s*E[A-Z0-9]{2,}|MAP_FAILED)\s*\)?$/;
const CONDITION_OWNERS = new Set(['if_statement', 'while_statement', 'do_statement', 'for_statement', 'switch_statement']);
const COMPARISONS = new Set(['==', '!=', '<', '>', '<=', '>=']);
const ERROR_CALLS = /^(abort|exit|_exit|__assert_fail|perror|err|errx|panic)$|(^|_)(fatal|panic|die|oom|error)(_|$)/i;
const CAS_BUILTIN = /compare_exchange|compare_and_swap|cmpxchg/;
/** Parents whose children's field names the walk needs. */
const FIELD_PARENTS = new Set([
  'if_statement', 'while_statement', 'do_statement', 'for_statement', 'switch_statement', 'conditional_expression',
  'subscript_expression', 'field_expression', 'call_expression', 'assignment_expression', 'init_declarator',
  'cast_expression', 'update_expression', 'declaration', 'parameter_declaration', 'function_definition',
  'pointer_declarator', 'array_declarator', 'parenthesized_declarator', 'attributed_declarator',
]);
const OPERATOR_NODES = new Set(['binary_expression', 'unary_expression', 'assignment_expression', 'update_expression', 'pointer_expression']);
const CHAIN_NODES = new Set(['identifier', 'field_expression', 'subscript_expression', 'pointer_expression', 'parenthesized_expression', 'cast_expression']);
const PASS_THROUGH = new Set(['parenthesized_expression', 'cast_expression', 'pointer_expression', 'comma_expression']);
const SKIP = new Set(['comment', 'char_literal', 'primitive_type', 'type_identifier', 'sized_type_specifier', 'preproc_include', 'escape_sequence', 'system_lib_string']);
const STATEMENT_BOUNDARY = new Set(['compound_statement', 'expression_statement', 'declaration', 'function_definition', 'translation_unit']);

export function atomicOpOf(callee: string): AtomicOp {
  const n = callee.replace(/^__sync_|^__atomic_|^atomic_/, '');
  if (CAS_BUILTIN.test(n)) return 'cas';
  if (/exchange|test_and_set|lock_test_and_set/.test(n)) return 'exchange';
  if (/^load/.test(n)) return 'load';
  if (/^(store|clear|lock_release)/.test(n) || n === 'init') return 'store';
  return 'rmw';
}

// How the walk treats each node type (by symbol): anonymous nodes and SKIP types get no frame
// (nothing reads them), literals no frame either (only their parent call does), and
// FIELD_PARENTS are the frames whose children's field names are looked up.
const KIND_ANONYMOUS = 0;
const KIND_SKIP = 1;
const KIND_LITERAL = 2;
const KIND_NODE = 3;
const KIND_FIELD_PARENT = 4;
const LITERALS = new Set(['string_literal', 'number_literal', 'concatenated_string']);
const kindTables = new WeakMap<FlatLanguage, Uint8Array>();

function kindsOf(lang: FlatLanguage): Uint8Array {
  let kinds = kindTables.get(lang);
  if (!kinds) {
    kinds = new Uint8Array(lang.types.length);
    lang.types.forEach((type, id) => {
      if (!lang.named[id]) kinds![id] = KIND_ANONYMOUS;
      else if (SKIP.has(type)) kinds![id] = KIND_SKIP;
      else if (LITERALS.has(type)) kinds![id] = KIND_LITERAL;
      else kinds![id] = FIELD_PARENTS.has(type) ? KIND_FIELD_PARENT : KIND_NODE;
    });
    kindTables.set(lang, kinds);
  }
  return kinds;
}

// Shared empty values (frozen: facts are read-only); a call gets its own once it has one.
const NO_PATH: string[] = Object.freeze([]) as unknown as string[];
const NO_ARGS: CallFact['args'] = Object.freeze([]) as unknown as CallFact['args'];
const NO_LITERALS: Record<number, string> = Object.freeze({});

/** Index of the target argument of an atomic builtin (always the first). */
const TARGET_ARG = 0;

export function extractFacts(tree: Tree, text: string, options: ExtractOptions): FileFacts {
  return extractFlatFacts(flatten(tree.rootNode, text), options);
}

/** The facts of a flat copy of a file, or of one top-level item (with file-absolute positions). */
export function extractFlatFacts(flat: FlatTree, options: ExtractOptions, lineStarts?: number[]): FileFacts {
  const extractor = new Extractor(flat, options, lineStarts);
  const facts = extractor.run();
  facts.errorLines = extractor.errorLines();
  return facts;
}

/**
 * The facts of one top-level item (a function, a declaration, a directive block) of a parsed
 * file, with file-absolute positions: an edit re-extracts only the items it touched.
 */
export function extractItemFacts(item: Node, text: string, options: ExtractOptions, lineStarts?: number[]): FileFacts {
  return extractFlatFacts(flatten(item, text), options, lineStarts);
}

export function emptyFileFacts(): FileFacts {
  return { functions: [], macros: [], calls: [], atomics: [], reads: [], getenvs: [], globalAssigns: [], atomicDecls: [], globalTypes: {}, typedefs: {}, errorLines: [] };
}

/** Joins item facts in order; function indices are renumbered. */
export function mergeFacts(parts: readonly FileFacts[]): FileFacts {
  if (parts.length === 1) return parts[0];
  const out = emptyFileFacts();
  for (const part of parts) {
    const p = renumbered(part, out.functions.length);
    out.functions.push(...p.functions);
    out.macros.push(...p.macros);
    for (const c of p.calls) out.calls.push(c);
    for (const a of p.atomics) out.atomics.push(a);
    for (const r of p.reads) out.reads.push(r);
    for (const g of p.getenvs) out.getenvs.push(g);
    for (const g of p.globalAssigns) out.globalAssigns.push(g);
    out.atomicDecls.push(...p.atomicDecls);
    Object.assign(out.globalTypes, p.globalTypes);
    Object.assign(out.typedefs, p.typedefs);
    for (const l of p.errorLines) if (out.errorLines.length < 20 && !out.errorLines.includes(l)) out.errorLines.push(l);
  }
  return out;
}

/** The last renumbering of each item's facts: an edit elsewhere in the file usually keeps the offset. */
const renumberings = new WeakMap<FileFacts, { off: number; facts: FileFacts }>();

/** An item's facts with function indices moved up by `off` (the functions of the items before it). */
function renumbered(p: FileFacts, off: number): FileFacts {
  if (!off) return p;
  const hit = renumberings.get(p);
  if (hit?.off === off) return hit.facts;
  const fn = <T extends { fn: number }>(x: T): T => (x.fn >= 0 ? { ...x, fn: x.fn + off } : x);
  const facts = { ...p, calls: p.calls.map(fn), atomics: p.atomics.map(fn), reads: p.reads.map(fn), getenvs: p.getenvs.map(fn), globalAssigns: p.globalAssigns.map(fn) };
  renumberings.set(p, { off, facts });
  return facts;
}

/** The same facts `delta` lines further down (an edit above the item added or removed lines). */
export function shiftFacts(f: FileFacts, delta: number): FileFacts {
  if (!delta) return f;
  const use = (u: Use): Use => ({ ...u, line: u.line + delta });
  return {
    ...f,
    functions: f.functions.map((x) => ({ ...x, line: x.line + delta, endLine: x.endLine + delta })),
    macros: f.macros.map((x) => ({ ...x, line: x.line + delta })),
    calls: f.calls.map((x) => ({ ...x, line: x.line + delta, result: use(x.result) })),
    atomics: f.atomics.map((x) => ({ ...x, line: x.line + delta, endLine: x.endLine + delta, result: use(x.result) })),
    reads: f.reads.map((x) => ({ ...x, use: use(x.use) })),
    getenvs: f.getenvs.map((x) => ({ ...x, line: x.line + delta, result: use(x.result) })),
    globalAssigns: f.globalAssigns.map((x) => ({ ...x, line: x.line + delta })),
    errorLines: f.errorLines.map((l) => l + delta),
  };
}

class Extractor {
  private readonly facts: FileFacts = {
    functions: [],
    macros: [],
    calls: [],
    atomics: [],
    reads: [],
    getenvs: [],
    globalAssigns: [],
    atomicDecls: [],
    globalTypes: {},
    typedefs: {},
    errorLines: [],
  };
  private readonly frames: Frame[] = [];
  private fn: FunctionScope | null = null;
  private readonly text: string;
  private readonly types: string[];
  private readonly named: boolean[];
  private readonly fields: (string | null)[];
  private readonly kinds: Uint8Array;
  private lineStarts?: number[];

  constructor(
    private readonly flat: FlatTree,
    private readonly options: ExtractOptions,
    lineStarts?: number[],
  ) {
    this.text = flat.text;
    this.types = flat.lang.types;
    this.named = flat.lang.named;
    this.fields = flat.lang.fields;
    this.kinds = kindsOf(flat.lang);
    this.lineStarts = lineStarts;
  }

  /** 1-based lines of ERROR / MISSING nodes (at most 20), sorted. */
  errorLines(): number[] {
    const lines = new Set<number>();
    for (const at of this.flat.errorStarts()) lines.add(this.lineCol(at).line);
    return [...lines].sort((a, b) => a - b).slice(0, 20);
  }

  run(): FileFacts {
    const { sym, next } = this.flat;
    const field = this.flat.field;
    // Preorder over the flat copy; `stack` holds the nodes whose children are being visited,
    // `childIndex` counts every child (named or not), as a TreeCursor would.
    const stack: { node: number; frame: Frame; child: number; childIndex: number }[] = [];
    let i = 0;
    let childIndex = 0;
    for (;;) {
      const typeId = sym[i];
      let frame: Frame | null = null;
      let descend = false;
      // ERROR (symbol 0xffff) is past the table: no frame, as for anonymous nodes.
      const kind = this.kinds[typeId] ?? KIND_ANONYMOUS;
      if (kind === KIND_LITERAL) this.literal(i, childIndex);
      else if (kind !== KIND_SKIP && kind !== KIND_ANONYMOUS) {
        const parent = this.frames[this.frames.length - 1];
        frame = new Frame(this.types[typeId], parent?.fieldParent ? this.fields[field[i]] : null, childIndex, kind === KIND_FIELD_PARENT);
        // The node is on top of the stack while it is entered and left.
        this.frames.push(frame);
        descend = this.enter(frame, i);
      }
      if (frame && descend && i + 1 < next[i]) {
        stack.push({ node: i, frame, child: i + 1, childIndex: 0 });
        i = i + 1;
        childIndex = 0;
        continue;
      }
      if (frame) {
        this.leave(frame);
        this.frames.pop();
      }
      // The next sibling, or leave the parents whose children are done.
      let moved = false;
      while (stack.length) {
        const top = stack[stack.length - 1];
        const sibling = next[top.child];
        if (sibling < next[top.node]) {
          top.child = sibling;
          top.childIndex++;
          i = sibling;
          childIndex = top.childIndex;
          moved = true;
          break;
        }
        stack.pop();
        // The walk's own root is left last, below.
        if (!stack.length) break;
        this.leave(top.frame);
        this.frames.pop();
      }
      if (!moved) break;
    }
    while (this.frames.length) {
      this.leave(this.frames[this.frames.length - 1]);
      this.frames.pop();
    }
    return this.facts;
  }

  /** The parent of the node being entered or left (which is on top of the stack). */
  private parent(): Frame | undefined {
    return this.frames[this.frames.length - 2];
  }

  private lineCol(index: number): { line: number; column: number } {
    const starts = (this.lineStarts ??= computeLineStarts(this.text));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: index - starts[lo] + 1 };
  }

  private range(frame: Frame, i: number): void {
    frame.start = this.flat.start[i];
    frame.end = this.flat.end[i];
  }

  private slice(frame: Frame, max = 160): string {
    const s = this.text.slice(frame.start, Math.min(frame.end, frame.start + max + 3));
    return s.length > max ? `${s.slice(0, max - 3)}...` : s;
  }

  /** The first anonymous child (an operator) of node i. */
  private operator(i: number): string | undefined {
    const { sym, next } = this.flat;
    for (let c = i + 1; c < next[i]; c = next[c]) if (!this.named[sym[c]]) return this.types[sym[c]];
    return undefined;
  }

  /** Returns false to skip the node's children. */
  /**
   * A string or number literal (named, no frame: nothing below it or after it looks at it).
   * Literal arguments: getenv-wrapper names, preset values.
   */
  private literal(i: number, childIndex: number): void {
    const parent = this.frames[this.frames.length - 1];
    if (parent?.type !== 'argument_list') return;
    const call = this.frames[this.frames.length - 2]?.call;
    if (!call) return;
    const type = this.types[this.flat.sym[i]];
    const index = (childIndex - 1) >> 1;
    const raw = this.text.slice(this.flat.start[i], this.flat.end[i]);
    if (type === 'string_literal') {
      if (call.strings === NO_LITERALS) call.strings = {};
      call.strings[index] = raw.replace(/^[LuU8]*"|"$/g, '');
    } else if (type === 'number_literal') {
      if (call.numbers === NO_LITERALS) call.numbers = {};
      call.numbers[index] = raw;
    }
  }

  private enter(frame: Frame, i: number): boolean {
    const parent = this.parent();
    const type = frame.type;
    if (OPERATOR_NODES.has(type)) frame.op = this.operator(i);
    switch (type) {
      case 'ERROR':
        return true;
      case 'function_definition':
        if (!this.fn) {
          this.range(frame, i);
          frame.name = this.enterFunction(this.flat.node(i), frame.start) ?? undefined;
        }
        return true;
      case 'init_declarator':
        return true;
      case 'declaration':
        this.declaration(this.flat.node(i));
        return true;
      case 'type_definition':
        this.typedef(this.flat.node(i));
        return true;
      case 'field_declaration':
        this.fieldDeclaration(this.flat.node(i));
        return false;
      case 'preproc_function_def':
        this.macro(this.flat.node(i));
        return false;
      case 'preproc_def':
      case 'preproc_call':
        return false;
      case 'call_expression':
        this.range(frame, i);
        this.call(frame, i);
        return true;
      case 'identifier':
        this.range(frame, i);
        frame.chain = { root: this.text.slice(frame.start, frame.end), path: NO_PATH };
        return false;
      case 'field_expression':
      case 'subscript_expression':
        this.range(frame, i);
        return true;
      case 'assignment_expression':
      case 'update_expression':
        this.range(frame, i);
        return true;
      case 'return_statement': {
        this.range(frame, i);
        const value = this.text.slice(frame.start, frame.end).replace(/^return\b/, '').replace(/;\s*$/, '').trim();
        const error = ERROR_RETURN.test(value);
        this.markInnermostIf((f) => {
          f.returns = true;
          if (error) f.errorExit = true;
        });
        // Returning (a value) or leaving a loop is control flow, not printing.
        if (value) this.markEnclosingIfs((f) => (f.nonPrint = true));
        return true;
      }
      case 'continue_statement':
      case 'break_statement':
      case 'goto_statement':
        this.markEnclosingIfs((f) => (f.nonPrint = true));
        return false;
      case 'compound_statement':
        frame.guardNames = [];
        return true;
      default:
        if (CONDITION_OWNERS.has(type) || type === 'conditional_expression') {
          frame.condNames = [];
          frame.profile = null;
        }
        if (frame.field === 'condition' && parent?.type === 'if_statement') {
          frame.start = this.flat.start[i];
          parent.negated = /^\(\s*!(?!=)/.test(this.text.slice(frame.start, frame.start + 8));
        }
        return true;
    }
  }

  private leave(frame: Frame): void {
    const parent = this.parent();
    switch (frame.type) {
      case 'function_definition':
        if (this.fn && this.fn.start === frame.start) this.leaveFunction();
        return;
      case 'if_statement': {
        // `if (!X) return;` gates the rest of the block on X; `if (likely(c)) { ...; return }`
        // leaves the rest of the block as the slow side.
        if (parent?.type === 'compound_statement' && frame.returns) {
          if (frame.negated && frame.condNames) parent.guardNames!.push(...frame.condNames);
          if (frame.likely === 'likely') parent.afterLikelyReturn = true;
        }
        return;
      }
      case 'field_expression':
        // The field name is the last child; its text is at the end of the node.
        if (frame.chain) {
          const m = /([A-Za-z_]\w*)\s*$/.exec(this.text.slice(Math.max(frame.start, frame.end - 128), frame.end));
          frame.chain = { root: frame.chain.root, path: m ? [...frame.chain.path, m[1]] : frame.chain.path };
        }
        break;
      case 'assignment_expression':
      case 'update_expression':
        this.write(frame);
        return;
      case 'call_expression':
        if (parent?.type === 'assignment_expression' && frame.field === 'right') parent.rightCallee = frame.callee;
        return;
      default:
        break;
    }
    // The name a declarator declares, for `T *p = value` (the value is classified as a local).
    if (parent && parent.type.endsWith('declarator') && frame.field === 'declarator') {
      const declared = frame.type === 'identifier' ? frame.chain?.root : frame.name;
      if (declared) parent.name ??= declared;
    }
    if (!frame.chain) return;
    // Hand the object named so far to an enclosing chain node, or record it as a read.
    if (parent && CHAIN_NODES.has(parent.type) && parent.type !== 'identifier') {
      const continues =
        ((parent.type === 'field_expression' || parent.type === 'subscript_expression') && frame.field === 'argument') ||
        parent.type === 'pointer_expression' ||
        parent.type === 'parenthesized_expression' ||
        (parent.type === 'cast_expression' && frame.field === 'value');
      if (continues && !parent.chain) parent.chain = frame.chain;
      if ((parent.type === 'field_expression' || parent.type === 'subscript_expression') && frame.field === 'argument') return;
    }
    if (parent && (parent.type === 'assignment_expression' || parent.type === 'update_expression') && frame.field !== 'right') {
      if (!parent.chain) {
        parent.chain = frame.chain;
        parent.targetStart = frame.start >= 0 ? frame.start : undefined;
        parent.targetEnd = frame.end >= 0 ? frame.end : undefined;
      }
      return;
    }
    if (frame.type === 'identifier' || frame.type === 'field_expression' || frame.type === 'subscript_expression') this.access(frame);
  }

  // ---- functions -------------------------------------------------------------------------

  private enterFunction(node: SyntaxNode, start: number): string | null {
    let decl = node.childForFieldName('declarator');
    while (decl && decl.type !== 'function_declarator') decl = decl.childForFieldName('declarator');
    const nameNode = decl?.childForFieldName('declarator');
    const name = nameNode?.type === 'identifier' ? nameNode.text : null;
    if (!name || !decl) return null;
    const params: { name: string; type: string }[] = [];
    const locals = new Map<string, { type: string; aliasOf: AccessKey | null }>();
    for (const p of decl.childForFieldName('parameters')?.namedChildren ?? []) {
      if (p?.type !== 'parameter_declaration') continue;
      const pname = declaratorName(p.childForFieldName('declarator'));
      const ptype = typeName(p.childForFieldName('type'));
      if (pname) {
        params.push({ name: pname, type: ptype });
        locals.set(pname, { type: ptype, aliasOf: null });
      }
    }
    const head = this.text.slice(node.startIndex, decl.startIndex);
    this.facts.functions.push({
      name,
      line: this.lineCol(node.startIndex).line,
      endLine: this.lineCol(node.endIndex).line,
      isStatic: /\bstatic\b/.test(head),
      isConstructor: /\b(constructor|destructor)\b/.test(head),
      params,
      returnsGlobals: [],
      setIfUnset: null,
      getenvParam: null,
      atomicParam: null,
    });
    this.fn = { index: this.facts.functions.length - 1, node, start, locals, pendingUses: [], sites: [], localUses: new Map(), tracked: new Set(), getenvs: [], reporting: this.options.isReportingFunction(name) };
    return name;
  }

  private leaveFunction(): void {
    const fn = this.fn!;
    this.fn = null;
    // Print guards: a condition whose branch only prints.
    for (const p of fn.pendingUses) {
      if (p.ifFrame && p.use.kind === 'condition' && p.ifFrame.prints && !p.ifFrame.nonPrint) p.use.kind = 'print-guard';
    }
    for (const uses of fn.localUses.values()) {
      for (const p of uses) if (p.ifFrame && p.use.kind === 'condition' && p.ifFrame.prints && !p.ifFrame.nonPrint) p.use.kind = 'print-guard';
    }
    // Follow a value stored in a local to the local's uses, once: `qlen = load(); if (qlen < t)`.
    for (const p of fn.pendingUses) {
      const use = p.use;
      if (use.kind !== 'local' || !use.name) continue;
      const local = use.name;
      const uses = (fn.localUses.get(local) ?? []).map((u) => u.use).filter((u) => u.kind !== 'discard' && u.kind !== 'local');
      const strongest = strongestUse(uses);
      if (strongest) Object.assign(use, { ...strongest, via: local, text: `${local} = …; ${strongest.text}` });
      else if (!uses.length) Object.assign(use, { kind: 'discard', via: local });
    }
    for (const s of fn.sites) s.apply(this.context(s.refs));
    // A function that only returns a global (a gate getter).
    const f = this.facts.functions[fn.index];
    const body = fn.node.childForFieldName('body');
    if (body && body.namedChildCount === 1 && body.namedChildren[0]?.type === 'return_statement') {
      const value = unwrap(body.namedChildren[0].namedChildren[0] ?? null);
      if (value?.type === 'identifier' && !fn.locals.has(value.text)) f.returnsGlobals.push(value.text);
    }
    // getenv facts need the whole function: its default comes from running it with getenv() = NULL.
    if (fn.getenvs.length) {
      const r = evaluateGateDefault(fn.node, this.text);
      for (const g of fn.getenvs) {
        g.value = r.value;
        g.cachedIn = r.cachedIn && !fn.locals.has(r.cachedIn) ? r.cachedIn : r.staticLocal;
      }
    }
  }

  // ---- declarations ----------------------------------------------------------------------

  private declaration(node: SyntaxNode): void {
    const type = typeName(node.childForFieldName('type'));
    const atomic = isAtomicType(node, this.text);
    for (const d of node.childrenForFieldName('declarator')) {
      if (!d) continue;
      const name = declaratorName(d);
      if (!name) continue;
      if (this.fn) {
        let aliasOf: AccessKey | null = null;
        if (d.type === 'init_declarator') {
          // `T *p = &g[i];` names g's element; `T *p = other->q;` is just a T (typed below).
          const value = unwrap(d.childForFieldName('value'));
          if (value?.type === 'pointer_expression' && value.text.startsWith('&')) aliasOf = this.aliasKey(value);
        }
        this.fn.locals.set(name, { type, aliasOf });
      } else {
        if (d.type === 'function_declarator' || d.childForFieldName('declarator')?.type === 'function_declarator') continue;
        this.facts.globalTypes[name] = type;
        if (atomic) this.facts.atomicDecls.push(name);
      }
    }
  }

  private typedef(node: SyntaxNode): void {
    const t = node.childForFieldName('type');
    const tag = t?.type === 'struct_specifier' || t?.type === 'union_specifier' ? t.childForFieldName('name')?.text : undefined;
    for (const d of node.childrenForFieldName('declarator')) {
      const name = d ? declaratorName(d) : null;
      const target = tag ?? typeName(t);
      // An anonymous `typedef struct { ... } name;` is known by its typedef name only.
      if (name && target && target !== name) this.facts.typedefs[name] = target;
    }
  }

  private fieldDeclaration(node: SyntaxNode): void {
    if (!isAtomicType(node, this.text)) return;
    // The struct: the nearest enclosing struct_specifier; its tag, or the typedef name around it.
    let owner: string | null = null;
    for (let p = node.parent; p; p = p.parent) {
      if (p.type === 'struct_specifier' || p.type === 'union_specifier') {
        owner = p.childForFieldName('name')?.text ?? null;
        if (!owner && p.parent?.type === 'type_definition') owner = declaratorName(p.parent.childForFieldName('declarator'));
        break;
      }
    }
    for (const d of node.childrenForFieldName('declarator')) {
      const name = d ? declaratorName(d) : null;
      if (name) this.facts.atomicDecls.push(owner ? `${owner}.${name}` : `.${name}`);
    }
  }

  private macro(node: SyntaxNode): void {
    const name = node.childForFieldName('name')?.text;
    const value = node.childForFieldName('value')?.text ?? '';
    const params = (node.childForFieldName('parameters')?.namedChildren ?? []).filter((p) => p?.type === 'identifier').map((p) => p!.text);
    if (!name || !this.options.parseSnippet) return;
    const mentionsAtomic = /\b(atomic_|__atomic_|__sync_)/.test(value);
    const mentionsPrint = /printf|puts|write|log/i.test(value);
    if (!mentionsAtomic && !mentionsPrint) return;
    const fact: MacroFact = { name, line: this.lineCol(node.startIndex).line, params, atomicParam: null, prints: false };
    const snippet = this.options.parseSnippet(`void __alloc_lens_macro(void) {\n${value.replace(/\\\r?\n/g, ' ')};\n}\n`);
    try {
      for (const call of snippet.rootNode.descendantsOfType('call_expression')) {
        const callee = call?.childForFieldName('function');
        if (!call || callee?.type !== 'identifier') continue;
        if (isAtomicBuiltin(callee.text) && !fact.atomicParam) {
          let target = unwrap(call.childForFieldName('arguments')?.namedChildren[0] ?? null);
          while (target && target.type === 'pointer_expression') target = unwrap(target.childForFieldName('argument'));
          const param = target?.type === 'identifier' ? params.indexOf(target.text) : -1;
          if (param >= 0) fact.atomicParam = { param, op: atomicOpOf(callee.text), callee: callee.text };
        } else if (this.options.isPrintCallee(callee.text)) fact.prints = true;
      }
    } finally {
      snippet.delete();
    }
    if (fact.atomicParam || fact.prints) this.facts.macros.push(fact);
  }

  // ---- expressions -----------------------------------------------------------------------

  private call(frame: Frame, i: number): void {
    // The callee is the first child.
    let callee: string | null = null;
    const { sym, start, end, next } = this.flat;
    if (i + 1 < next[i] && this.types[sym[i + 1]] === 'identifier') callee = this.text.slice(start[i + 1], end[i + 1]);
    if (!callee) return;
    frame.callee = callee;
    const pos = this.lineCol(frame.start);
    const fnIndex = this.fn?.index ?? -1;
    const special = isAtomicBuiltin(callee) || isGetenv(callee) || callee === 'setenv' || /^(strn?(case)?cmp)$/.test(callee);
    const node: SyntaxNode | null = special ? this.flat.node(i) : null;
    const args = node ? (node.childForFieldName('arguments')?.namedChildren ?? []).filter((a): a is SyntaxNode => !!a && a.type !== 'comment') : [];

    // Inside a condition: remember the names it tests, and a `strcmp(sel, "NAME")` profile test.
    const cond = this.enclosingCondition();
    if (cond) {
      cond.condNames!.push(callee);
      if (node && /^(strn?(case)?cmp)$/.test(callee)) {
        const lit = args.find((a) => a.type === 'string_literal');
        const sel = args.find((a) => a.type !== 'string_literal');
        if (lit && sel) cond.profile = { name: stringValue(lit), selector: sel.text };
      }
      if (/unlikely/i.test(callee)) cond.likely ??= 'unlikely';
      else if (callee === '__builtin_expect') cond.likely ??= /,\s*0\s*\)\s*$/.test(this.text.slice(frame.start, frame.end)) ? 'unlikely' : 'likely';
      else if (/likely/i.test(callee)) cond.likely ??= 'likely';
    }

    if (isAtomicBuiltin(callee) && node) {
      const target = args[TARGET_ARG] ? this.aliasKey(unwrap(args[TARGET_ARG])!) : null;
      const order = args.map((a) => a.text).find((t) => /memory_order_|__ATOMIC_/.test(t)) ?? null;
      const end = this.lineCol(frame.end);
      const fact: AtomicFact = {
        callee,
        op: atomicOpOf(callee),
        order,
        key: target,
        fn: fnIndex,
        line: pos.line,
        column: pos.column,
        endLine: end.line,
        endColumn: end.column,
        ctx: EMPTY_CONTEXT,
        result: { kind: 'discard', line: pos.line, column: pos.column, text: '' },
        viaOperator: false,
      };
      this.facts.atomics.push(fact);
      fact.result = this.use(this.frames.length, pos, this.slice(frame));
      this.site((ctx) => (fact.ctx = ctx));
      const f = this.currentFunction();
      if (f && target?.rootKind === 'local' && !f.atomicParam) {
        const param = f.params.findIndex((p) => p.name === target.root);
        if (param >= 0) f.atomicParam = { param, op: fact.op, callee };
      }
      this.markEnclosingIfs((i) => (i.nonPrint = true));
      return;
    }

    if (isGetenv(callee) && node) {
      const nameArg = args[0];
      const f = this.currentFunction();
      let name: string | null = null;
      if (nameArg?.type === 'string_literal') name = stringValue(nameArg);
      else if (f && nameArg?.type === 'identifier') {
        const param = f.params.findIndex((p) => p.name === nameArg.text);
        if (param >= 0) f.getenvParam = param;
      }
      const fact: GetenvFact = {
        name,
        fn: fnIndex,
        line: pos.line,
        column: pos.column,
        value: { kind: fnIndex >= 0 ? 'pending' : 'unknown' },
        cachedIn: null,
        result: this.use(this.frames.length, pos, this.slice(frame)),
      };
      this.facts.getenvs.push(fact);
      this.fn?.getenvs.push(fact);
      if (cond) cond.condNames!.push(`getenv:${name ?? '?'}`);
      return;
    }

    if (callee === 'setenv' && node) {
      const f = this.currentFunction();
      // setenv(name, value, 0), or `if (!getenv(name)) setenv(name, value, 1)`.
      if (f && args.length === 3 && (args[2].text === '0' || this.underGetenvTest())) {
        const n = f.params.findIndex((p) => p.name === args[0].text);
        const v = f.params.findIndex((p) => p.name === args[1].text);
        if (n >= 0 && v >= 0) f.setIfUnset = { nameParam: n, valueParam: v };
      }
    }

    if (!this.options.isPrintCallee(callee)) this.markEnclosingIfs((i) => (i.nonPrint = true));
    else this.markEnclosingIfs((i) => (i.prints = true));
    if (this.options.isWarmName(callee)) this.markInnermostIf((i) => (i.warmCall ??= callee));
    if (this.options.isColdName(callee)) this.markInnermostIf((i) => (i.coldCall ??= callee));
    if (ERROR_CALLS.test(callee)) this.markInnermostIf((i) => (i.errorExit = true));

    const fact: CallFact = {
      callee,
      fn: fnIndex,
      line: pos.line,
      column: pos.column,
      ctx: EMPTY_CONTEXT,
      args: NO_ARGS,
      strings: NO_LITERALS,
      numbers: NO_LITERALS,
      result: this.use(this.frames.length, pos, this.slice(frame)),
      profile: this.enclosingProfile(),
    };
    frame.call = fact;
    this.facts.calls.push(fact);
    this.site((ctx) => (fact.ctx = ctx));
  }

  /** An assignment or ++/-- whose target is now known (its chain was handed up). */
  private write(frame: Frame): void {
    const chain = frame.chain;
    if (!chain) {
      this.markEnclosingIfs((i) => (i.nonPrint = true));
      return;
    }
    const key = this.keyOf(chain, frame.targetStart !== undefined ? this.text.slice(frame.targetStart, Math.min(frame.targetEnd!, frame.targetStart + 120)) : chain.root);
    const isLocal = !!this.fn && chain.path.length === 0 && this.fn.locals.has(chain.root);
    // `g_x = parse_x();`: how a gate's parsed value gets cached in a global.
    if (frame.type === 'assignment_expression' && chain.path.length === 0 && !isLocal && frame.rightCallee) {
      this.facts.globalAssigns.push({ global: chain.root, callee: frame.rightCallee, fn: this.fn?.index ?? -1, line: this.lineCol(frame.start).line });
    }
    if (chain.root === 'errno' && !chain.path.length) this.markInnermostIf((i) => (i.errorExit = true));
    if (isLocal) return;
    this.markEnclosingIfs((i) => (i.nonPrint = true));
    if (key.rootKind === 'local') return;
    const pos = this.lineCol(frame.start);
    const end = this.lineCol(frame.end);
    const op: AtomicOp = frame.type === 'update_expression' || (frame.op && frame.op !== '=') ? 'rmw' : 'store';
    // Kept as a candidate: it is an atomic operation only if the object is declared _Atomic.
    const fact: AtomicFact = {
      callee: frame.type === 'update_expression' ? (frame.op ?? '++') : (frame.op ?? '='),
      op,
      order: 'memory_order_seq_cst',
      key,
      fn: this.fn?.index ?? -1,
      line: pos.line,
      column: pos.column,
      endLine: end.line,
      endColumn: end.column,
      ctx: EMPTY_CONTEXT,
      result: this.use(this.frames.length, pos, this.slice(frame)),
      viaOperator: true,
    };
    this.facts.atomics.push(fact);
    this.site((ctx) => (fact.ctx = ctx));
  }

  /** A read of an object: the top of a field/subscript chain, or a plain identifier. */
  private access(frame: Frame): void {
    const parent = this.parent();
    if (!parent || !frame.chain) return;
    if (parent.type === 'call_expression' && frame.field === 'function') return;
    if (parent.type === 'init_declarator' || parent.type === 'declaration' || parent.type === 'parameter_declaration') {
      if (frame.field !== 'value') return;
    }
    if (parent.type.endsWith('_declarator') && parent.type !== 'init_declarator') return;
    if (parent.type === 'labeled_statement' || parent.type === 'goto_statement' || parent.type === 'preproc_defined') return;
    const chain = frame.chain;
    const name = chain.root;
    // Record the condition's names for gate tracking.
    if (frame.type === 'identifier') {
      const cond = this.enclosingCondition();
      if (cond) cond.condNames!.push(name);
      // Macros and enum constants (ALL_CAPS) are not objects.
      if (/^[A-Z_][A-Z0-9_]*$/.test(name)) return;
    }
    if (!this.fn) return;
    if (this.isAtomicTargetArgument()) return;
    const local = chain.path.length === 0 ? this.fn.locals.get(name) : undefined;
    if (local && frame.type === 'identifier') {
      // A local handed straight to a call: how a profile selector reaches the preset function.
      const parent = this.parent();
      const call = parent?.type === 'argument_list' ? this.frames[this.frames.length - 3]?.call : undefined;
      if (call) this.addArgument(call, { index: (frame.childIndex - 1) >> 1, key: this.interned({ root: name, rootKind: 'local', path: NO_PATH, text: name }), addressOf: false });
      // Uses of locals that hold a value worth following (`q = atomic_load(..)`, `e = getenv(..)`).
      if (this.fn.tracked.has(name)) {
        const uses = this.fn.localUses.get(name) ?? [];
        this.fn.localUses.set(name, uses);
        this.use(this.frames.length, this.lineCol(frame.start), name, uses);
      }
      if (!local.aliasOf) return;
    }
    const pos = this.lineCol(frame.start);
    const key = this.keyOf(chain, this.slice(frame, 120));
    if (key.rootKind === 'local') return;
    const use = this.use(this.frames.length, pos, this.slice(frame));
    this.facts.reads.push({ key, fn: this.fn.index, use });
    // An object handed to a call: the call's argument, for wrapper functions and macros.
    if (use.kind === 'call' || use.kind === 'print') {
      const owner = this.argumentOwner();
      if (owner) this.addArgument(owner.call, { index: owner.index, key, addressOf: owner.addressOf });
    }
  }

  /** The call whose argument the current node is (through & and parentheses), if any. */
  private argumentOwner(): { call: CallFact; index: number; addressOf: boolean } | null {
    let addressOf = false;
    for (let i = this.frames.length - 1; i > 0; i--) {
      const f = this.frames[i];
      if (f.type === 'argument_list') {
        const call = this.frames[i - 1].call;
        const arg = this.frames[i + 1];
        return call && arg ? { call, index: (arg.childIndex - 1) >> 1, addressOf } : null;
      }
      if (f.type === 'pointer_expression' && f.op === '&') addressOf = true;
      else if (!PASS_THROUGH.has(f.type) && i < this.frames.length - 1) return null;
    }
    return null;
  }

  /** Is the current node (inside) the target argument of an atomic builtin? */
  private isAtomicTargetArgument(): boolean {
    for (let i = this.frames.length - 1; i > 0; i--) {
      const f = this.frames[i];
      if (f.type === 'argument_list') {
        const call = this.frames[i - 1];
        const arg = this.frames[i + 1];
        return !!call.callee && isAtomicBuiltin(call.callee) && arg !== undefined && (arg.childIndex - 1) >> 1 === TARGET_ARG;
      }
      if (!PASS_THROUGH.has(f.type) && f.type !== 'field_expression' && f.type !== 'subscript_expression' && f.type !== 'identifier') return false;
    }
    return false;
  }

  /** Resolves a chain's root: a local aliasing a global, a typed local, or a global. */
  private keyOf(chain: Chain, text: string): AccessKey {
    const local = this.fn?.locals.get(chain.root);
    if (local) {
      if (local.aliasOf) return this.interned({ ...local.aliasOf, path: [...local.aliasOf.path, ...chain.path], text });
      if (local.type && chain.path.length) return this.interned({ root: local.type, rootKind: 'type', path: chain.path, text });
      return this.interned({ root: chain.root, rootKind: 'local', path: chain.path, text });
    }
    return this.interned({ root: chain.root, rootKind: 'global', path: chain.path, text });
  }

  // Facts are read-only once extracted, so equal keys and contexts are one object per file: a
  // file names the same counter and sits in the same branch many times over.
  /** Keys by their text (which nearly always decides the rest). */
  private readonly keys = new Map<string, AccessKey[]>();
  private readonly contexts = new Map<string, SiteContext>();
  private lastContext: SiteContext | null = null;

  private interned(key: AccessKey): AccessKey {
    const same = this.keys.get(key.text);
    if (same) {
      for (const k of same) if (k.root === key.root && k.rootKind === key.rootKind && samePath(k.path, key.path)) return k;
    }
    if (!key.path.length) key.path = NO_PATH;
    if (same) same.push(key);
    else this.keys.set(key.text, [key]);
    return key;
  }

  private context(refs: SiteRefs): SiteContext {
    const ctx = siteContext(refs);
    // Sites one after the other usually sit in the same branch.
    const last = this.lastContext;
    if (last && sameContext(last, ctx)) return last;
    const id = `${+ctx.slowBranch}${+ctx.errorBranch}\u0001${ctx.warmBranch ?? '\u0002'}\u0001${ctx.coldBranch ?? '\u0002'}\u0001${ctx.conditionNames.join('\u0001')}`;
    let hit = this.contexts.get(id);
    if (!hit) this.contexts.set(id, (hit = ctx));
    this.lastContext = hit;
    return hit;
  }

  private addArgument(call: CallFact, arg: CallFact['args'][number]): void {
    if (call.args === NO_ARGS) call.args = [];
    call.args.push(arg);
  }

  /** The object an lvalue-ish expression names (node form, for the rare nodes materialized). */
  private aliasKey(expr: SyntaxNode): AccessKey | null {
    const path: string[] = [];
    let n: SyntaxNode | null = unwrap(expr);
    for (let guard = 0; n && guard < 32; guard++) {
      if (n.type === 'field_expression') {
        const field = n.childForFieldName('field');
        if (field) path.unshift(field.text);
        n = unwrap(n.childForFieldName('argument'));
      } else if (n.type === 'subscript_expression' || n.type === 'pointer_expression') {
        n = unwrap(n.childForFieldName('argument'));
      } else if (n.type === 'binary_expression') {
        n = unwrap(n.childForFieldName('left'));
      } else break;
    }
    if (!n || n.type !== 'identifier') return null;
    // The object, not its address: `&g[i].x` is written `g[i].x`.
    let named: SyntaxNode = unwrap(expr) ?? expr;
    if (named.type === 'pointer_expression' && named.text.startsWith('&')) named = unwrap(named.childForFieldName('argument')) ?? named;
    const text = named.text.length > 120 ? `${named.text.slice(0, 117)}...` : named.text;
    return this.keyOf({ root: n.text, path }, text);
  }

  /**
   * How the value of the node at the top of the stack (frames[top - 1]) is used. Decided now from
   * the enclosing frames; print guards and values kept in locals are settled when the function ends.
   */
  private use(top: number, pos: { line: number; column: number }, text: string, localUses?: PendingUse[]): Use {
    const locals = this.fn?.locals;
    const { use, ifFrame } = classifyUse(this.frames, top, pos, text, this.options, (n) => !!locals?.has(n), !!this.fn?.reporting);
    const pending: PendingUse = { use, ifFrame };
    if (localUses) localUses.push(pending);
    else if (this.fn && (ifFrame || use.kind === 'local')) this.fn.pendingUses.push(pending);
    if (use.kind === 'local' && use.name) this.fn?.tracked.add(use.name);
    return use;
  }

  /** Captures what decides a site's context; `apply` gets it when the function ends. */
  private site(apply: (ctx: SiteContext) => void): void {
    const refs: SiteRefs = { ifs: [], afterLikelyReturn: false, guardNames: [] };
    let insideExpect = false;
    for (let i = this.frames.length - 1; i > 0; i--) {
      const f = this.frames[i - 1];
      const child = this.frames[i];
      if (f.type === 'function_definition') break;
      if (f.type === 'call_expression' && f.callee && /likely|__builtin_expect/i.test(f.callee)) insideExpect = true;
      if (f.type === 'if_statement' && (child.field === 'consequence' || child.field === 'alternative' || child.field === 'condition')) {
        refs.ifs.push({ frame: f, branch: child.field, insideExpect });
      }
      if (f.type === 'compound_statement') {
        if (f.afterLikelyReturn) refs.afterLikelyReturn = true;
        if (f.guardNames?.length) refs.guardNames.push(...f.guardNames);
      }
    }
    if (this.fn) this.fn.sites.push({ refs, apply });
    else apply(this.context(refs));
  }

  private currentFunction(): FunctionFact | null {
    return this.fn ? this.facts.functions[this.fn.index] : null;
  }

  /** The if/while/... whose condition the walk is inside, if any. */
  private enclosingCondition(): Frame | null {
    for (let i = this.frames.length - 1; i > 0; i--) {
      const f = this.frames[i];
      const owner = this.frames[i - 1];
      if (f.field === 'condition' && owner.condNames) return owner;
      if (STATEMENT_BOUNDARY.has(f.type)) return null;
    }
    return null;
  }

  private enclosingProfile(): { name: string; selector: string } | null {
    for (let i = this.frames.length - 1; i > 0; i--) {
      const f = this.frames[i];
      const owner = this.frames[i - 1];
      if (owner.type === 'if_statement' && f.field === 'consequence' && owner.profile) return owner.profile;
      if (f.type === 'function_definition') return null;
    }
    return null;
  }

  private markInnermostIf(mark: (f: Frame) => void): void {
    for (let i = this.frames.length - 1; i > 0; i--) {
      const f = this.frames[i];
      const owner = this.frames[i - 1];
      if (owner.type === 'if_statement' && (f.field === 'consequence' || f.field === 'alternative')) return mark(owner);
      if (f.type === 'function_definition') return;
    }
  }

  private underGetenvTest(): boolean {
    for (let i = this.frames.length - 1; i > 0; i--) {
      const owner = this.frames[i - 1];
      if (owner.type === 'if_statement' && this.frames[i].field === 'consequence' && owner.condNames?.some((n) => n.startsWith('getenv:'))) return true;
      if (this.frames[i].type === 'function_definition') return false;
    }
    return false;
  }

  /** Applies `mark` to every if_statement whose branch the walk is inside. */
  private markEnclosingIfs(mark: (f: Frame) => void): void {
    for (let i = this.frames.length - 1; i > 0; i--) {
      const f = this.frames[i];
      const owner = this.frames[i - 1];
      if (owner.type === 'if_statement' && (f.field === 'consequence' || f.field === 'alternative')) mark(owner);
      if (f.type === 'function_definition') return;
    }
  }
}

// ---- use classification ---------------------------------------------------------------------

export const EMPTY_CONTEXT: SiteContext = { slowBranch: false, errorBranch: false, warmBranch: null, coldBranch: null, conditionNames: [] };

const USE_STRENGTH: Record<string, number> = {
  condition: 9,
  cas: 9,
  exchange: 9,
  index: 8,
  return: 7,
  call: 5,
  assign: 4,
  arith: 3,
  address: 3,
  unknown: 2,
  'print-guard': 1,
  print: 1,
};

function strongestUse(uses: Use[]): Use | null {
  let best: Use | null = null;
  for (const u of uses) if (!best || (USE_STRENGTH[u.kind] ?? 0) > (USE_STRENGTH[best.kind] ?? 0)) best = u;
  return best;
}

function classifyUse(
  frames: Frame[],
  top: number,
  pos: { line: number; column: number },
  text: string,
  options: ExtractOptions,
  isLocal: (name: string) => boolean,
  /** Inside a dump/print/report function: its reads only feed its output. */
  reporting: boolean,
): { use: Use; ifFrame?: Frame } {
  const mk = (kind: Use['kind'], extra: Partial<Use> = {}, ifFrame?: Frame): { use: Use; ifFrame?: Frame } => {
    if (reporting && kind !== 'discard' && kind !== 'local' && kind !== 'return') return { use: useOf(kind === 'print' ? 'print' : 'print-guard', pos, text, extra) };
    return { use: useOf(kind, pos, text, extra), ifFrame };
  };
  for (let i = top - 2; i >= 0; i--) {
    const f = frames[i];
    const child = frames[i + 1];
    switch (f.type) {
      case 'parenthesized_expression':
      case 'cast_expression':
      case 'comma_expression':
        continue;
      case 'pointer_expression':
        if (f.op === '&') continue;
        return mk('index');
      case 'unary_expression':
        if (f.op === '!') return condOrCompare(frames, i, mk);
        continue;
      case 'binary_expression':
        if (f.op === '&&' || f.op === '||') return mk('condition');
        if (f.op && COMPARISONS.has(f.op)) return condOrCompare(frames, i, mk);
        continue;
      case 'conditional_expression':
        if (child.field === 'condition') return mk('condition');
        continue;
      case 'if_statement':
      case 'while_statement':
      case 'do_statement':
      case 'for_statement':
      case 'switch_statement':
        if (child.field === 'condition') return mk('condition', {}, f.type === 'if_statement' ? f : undefined);
        return mk('discard');
      case 'return_statement':
        return mk('return');
      case 'subscript_expression':
        return child.field === 'index' ? mk('index') : mk('unknown');
      case 'argument_list': {
        const callee = frames[i - 1]?.callee ?? '';
        const index = (child.childIndex - 1) >> 1;
        if (options.isPrintCallee(callee)) return mk('print', { name: callee });
        if (isAtomicBuiltin(callee)) {
          const op = atomicOpOf(callee);
          return mk(op === 'cas' ? 'cas' : op === 'exchange' ? 'exchange' : 'arith', { name: callee });
        }
        return mk('call', { name: callee, argIndex: index });
      }
      case 'init_declarator':
        if (child.field === 'value') return f.name ? mk('local', { name: f.name }) : mk('assign');
        return mk('unknown');
      case 'assignment_expression':
        if (child.field === 'right') {
          const target = f.chain;
          // Stored in a plain local: follow the local (the target chain is known when the
          // assignment ends; a local target is a bare identifier on the left).
          return target && !target.path.length && isLocal(target.root) ? mk('local', { name: target.root }) : mk('assign');
        }
        return mk('unknown');
      case 'expression_statement':
        return mk('discard');
      case 'initializer_list':
      case 'initializer_pair':
        return mk('assign');
      default:
        return mk('unknown');
    }
  }
  return mk('unknown');
}

/** A Use, built as one object literal per shape (spreads would give each its own property array). */
function useOf(kind: Use['kind'], pos: { line: number; column: number }, text: string, extra: Partial<Use>): Use {
  const { name, argIndex } = extra;
  if (name === undefined) return { kind, line: pos.line, column: pos.column, text };
  if (argIndex === undefined) return { kind, line: pos.line, column: pos.column, text, name };
  return { kind, line: pos.line, column: pos.column, text, name, argIndex };
}

/** A comparison's result: a condition when it ends up in one, else an arithmetic use. */
function condOrCompare(frames: Frame[], i: number, mk: (k: Use['kind'], extra?: Partial<Use>, ifFrame?: Frame) => { use: Use; ifFrame?: Frame }): { use: Use; ifFrame?: Frame } {
  for (let j = i - 1; j >= 0; j--) {
    const f = frames[j];
    const child = frames[j + 1];
    if (PASS_THROUGH.has(f.type) || f.type === 'unary_expression' || f.type === 'binary_expression') continue;
    if (CONDITION_OWNERS.has(f.type) && child.field === 'condition') return mk('condition', {}, f.type === 'if_statement' ? f : undefined);
    if (f.type === 'conditional_expression' && child.field === 'condition') return mk('condition');
    if (f.type === 'return_statement') return mk('return');
    break;
  }
  return mk('condition');
}

function siteContext(refs: SiteRefs): SiteContext {
  const ctx: SiteContext = { slowBranch: refs.afterLikelyReturn, errorBranch: false, warmBranch: null, coldBranch: null, conditionNames: [...refs.guardNames] };
  let innermost = true;
  for (const { frame: f, branch, insideExpect } of refs.ifs) {
    // `if (unlikely(x) && f())`: f only runs on the unlikely side.
    if (branch === 'condition') {
      if (f.likely === 'unlikely' && !insideExpect) ctx.slowBranch = true;
      continue;
    }
    const inConsequence = branch === 'consequence';
    if ((inConsequence && f.likely === 'unlikely') || (!inConsequence && f.likely === 'likely')) ctx.slowBranch = true;
    if (f.errorExit && inConsequence) ctx.errorBranch = true;
    if (innermost) {
      ctx.warmBranch = f.warmCall ?? null;
      ctx.coldBranch = f.coldCall ?? null;
      innermost = false;
    }
    if (inConsequence && !f.negated && f.condNames) ctx.conditionNames.push(...f.condNames);
  }
  return ctx;
}

function samePath(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameContext(a: SiteContext, b: SiteContext): boolean {
  return a.slowBranch === b.slowBranch && a.errorBranch === b.errorBranch && a.warmBranch === b.warmBranch && a.coldBranch === b.coldBranch && samePath(a.conditionNames, b.conditionNames);
}

// ---- small tree helpers ---------------------------------------------------------------------

/** Strips parentheses and casts. */
export function unwrap(n: SyntaxNode | null): SyntaxNode | null {
  while (n && (n.type === 'parenthesized_expression' || n.type === 'cast_expression')) {
    n = n.type === 'cast_expression' ? n.childForFieldName('value') : n.namedChildren.find((c) => c?.type !== 'comment') ?? null;
  }
  return n;
}

export function declaratorName(d: SyntaxNode | null): string | null {
  for (let guard = 0; d && guard < 16; guard++) {
    if (d.type === 'identifier' || d.type === 'field_identifier' || d.type === 'type_identifier') return d.text;
    d = d.childForFieldName('declarator');
  }
  return null;
}

function typeName(t: SyntaxNode | null): string {
  if (!t) return '';
  if (t.type === 'struct_specifier' || t.type === 'union_specifier' || t.type === 'enum_specifier') return t.childForFieldName('name')?.text ?? '';
  return t.text;
}

function isAtomicType(decl: SyntaxNode, text: string): boolean {
  const t = decl.childForFieldName('type');
  const head = text.slice(decl.startIndex, t ? t.endIndex : decl.startIndex);
  return /\b_Atomic\b|\batomic_[a-z_0-9]+\b/.test(head);
}

export function stringValue(lit: SyntaxNode): string {
  const parts = lit.namedChildren.filter((c) => c?.type === 'string_content' || c?.type === 'escape_sequence');
  return parts.map((c) => c!.text).join('');
}

export function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}
