// Per-file facts: one cursor walk over a tree-sitter tree turns a C file into plain data (functions,
// calls, atomic operations, reads of objects, getenv calls, preset calls, declarations). The
// workspace analysis (analyze.ts) joins the facts of every file; nothing here looks across files.
//
// The walk keeps its own stack of frames instead of asking tree-sitter for parents: a parent
// lookup crosses into wasm every time, a frame is a JS object. Uses of a value (is it printed,
// tested, returned...) are classified when the enclosing function ends, because some of what
// decides them (an operator, whether an `if` body only prints) is only seen after the value.
import type { Node, Tree } from 'web-tree-sitter';
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

interface Frame {
  type: string;
  field: string | null;
  /** Index of this node among its parent's named + anonymous children. */
  childIndex: number;
  start: number;
  end: number;
  /** binary/unary/assignment/update operator, once its anonymous child was seen. */
  op?: string;
  /** call_expression: the callee identifier. */
  callee?: string;
  /** if_statement and friends. */
  likely?: 'likely' | 'unlikely';
  negated?: boolean;
  condNames?: string[];
  profile?: { name: string; selector: string } | null;
  /** if_statement: its consequence / alternative contains an error exit or a warm call. */
  errorExit?: boolean;
  warmCall?: string | null;
  coldCall?: string | null;
  /** if_statement: the branch bodies do something else than printing. */
  nonPrint?: boolean;
  /** if_statement: the branch bodies print. */
  prints?: boolean;
  returns?: boolean;
  /** compound_statement: names gated by earlier `if (!X) return;`, and "after a likely return". */
  guardNames?: string[];
  afterLikelyReturn?: boolean;
  /** function_definition: its name. init_declarator: the declared name. */
  name?: string;
}

interface Pending {
  frames: Frame[];
  /** Block state when the site was seen: later statements must not change it. */
  afterLikelyReturn?: boolean;
  guardNames?: string[];
  line: number;
  column: number;
  text: string;
  resolve: (use: Use, ctx: SiteContext) => void;
}

interface FunctionScope {
  index: number;
  node: Node;
  locals: Map<string, { type: string; aliasOf: AccessKey | null }>;
  pending: Pending[];
  /** Uses of each local variable, resolved when the function ends. */
  localUses: Map<string, Pending[]>;
}

/** `return NULL;`, `return -1;`, `return -EINVAL;`, `return MAP_FAILED;`: an error exit. */
const ERROR_RETURN = /^\(?\s*(NULL|\(void\s*\*\)\s*0|-\s*\d+|-?\s*E[A-Z0-9]{2,}|MAP_FAILED)\s*\)?$/;
const CONDITION_OWNERS = new Set(['if_statement', 'while_statement', 'do_statement', 'for_statement', 'switch_statement']);
const COMPARISONS = new Set(['==', '!=', '<', '>', '<=', '>=']);
const ERROR_CALLS = /^(abort|exit|_exit|__assert_fail|perror|err|errx|panic)$|(^|_)(fatal|panic|die|oom|error)(_|$)/i;
const CAS_BUILTIN = /compare_exchange|compare_and_swap|cmpxchg/;

export function atomicOpOf(callee: string): AtomicOp {
  const n = callee.replace(/^__sync_|^__atomic_|^atomic_/, '');
  if (CAS_BUILTIN.test(n)) return 'cas';
  if (/exchange|test_and_set|lock_test_and_set/.test(n)) return 'exchange';
  if (/^load/.test(n)) return 'load';
  if (/^(store|clear|lock_release)/.test(n) || n === 'init') return 'store';
  return 'rmw';
}

/** Index of the target argument of an atomic builtin (always the first). */
const TARGET_ARG = 0;

export function extractFacts(tree: Tree, text: string, options: ExtractOptions): FileFacts {
  return new Extractor(tree, text, options).run();
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
  private readonly fieldNames: (string | null)[];

  constructor(
    private readonly tree: Tree,
    private readonly text: string,
    private readonly options: ExtractOptions,
  ) {
    const lang = tree.language;
    this.fieldNames = [];
    for (let i = 0; i <= lang.fieldCount; i++) this.fieldNames.push(lang.fields[i] ?? null);
  }

  run(): FileFacts {
    const cursor = this.tree.walk();
    try {
      let childIndex = 0;
      for (;;) {
        const type = cursor.nodeType;
        const frame: Frame = {
          type,
          field: this.fieldNames[cursor.currentFieldId] ?? null,
          childIndex,
          start: cursor.startIndex,
          end: cursor.endIndex,
        };
        const descend = this.enter(frame, cursor.nodeIsNamed, () => cursor.currentNode);
        this.frames.push(frame);
        if (descend && cursor.gotoFirstChild()) {
          childIndex = 0;
          continue;
        }
        // Leave nodes until one has a next sibling.
        for (;;) {
          const done = this.frames.pop()!;
          this.leave(done);
          if (cursor.gotoNextSibling()) {
            childIndex = done.childIndex + 1;
            break;
          }
          if (!cursor.gotoParent()) return this.finish();
        }
        if (this.frames.length === 0) return this.finish();
      }
    } finally {
      cursor.delete();
    }
  }

  private finish(): FileFacts {
    while (this.frames.length) this.leave(this.frames.pop()!);
    return this.facts;
  }

  private parent(depth = 1): Frame | undefined {
    return this.frames[this.frames.length - depth];
  }

  private lineCol(index: number): { line: number; column: number } {
    // Lines are counted lazily from a table of line starts.
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
  private lineStarts?: number[];

  /** Returns false to skip the node's children. */
  private enter(frame: Frame, named: boolean, node: () => Node): boolean {
    const parent = this.parent();
    if (!named) {
      // Anonymous children carry the operator of their parent expression.
      if (parent && !parent.op && OPERATOR_PARENTS.has(parent.type)) parent.op = frame.type;
      return false;
    }
    switch (frame.type) {
      case 'comment':
      case 'string_literal':
      case 'char_literal':
      case 'number_literal':
      case 'preproc_include':
      case 'primitive_type':
      case 'type_identifier':
      case 'field_identifier':
      case 'sized_type_specifier':
        return false;
      case 'ERROR':
      case 'MISSING':
        if (this.facts.errorLines.length < 20) {
          const line = this.lineCol(frame.start).line;
          if (!this.facts.errorLines.includes(line)) this.facts.errorLines.push(line);
        }
        return true;
      case 'function_definition':
        if (!this.fn) frame.name = this.enterFunction(node()) ?? undefined;
        return true;
      case 'init_declarator':
        frame.name = declaratorName(node()) ?? undefined;
        return true;
      case 'declaration':
        this.declaration(node());
        return true;
      case 'type_definition':
        this.typedef(node());
        return true;
      case 'field_declaration':
        this.fieldDeclaration(node());
        return false;
      case 'preproc_function_def':
        this.macro(node());
        return false;
      case 'call_expression':
        this.call(frame, node());
        return true;
      case 'field_expression':
      case 'subscript_expression':
      case 'identifier':
        this.access(frame, node);
        return frame.type !== 'identifier';
      case 'assignment_expression':
      case 'update_expression':
        this.write(frame, node());
        return true;
      case 'return_statement': {
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
        return true;
      default:
        if (CONDITION_OWNERS.has(frame.type) || frame.type === 'conditional_expression') {
          frame.condNames = [];
          frame.profile = null;
        }
        if (frame.type === 'compound_statement') frame.guardNames = [];
        if (frame.field === 'condition' && parent?.type === 'if_statement') {
          parent.negated = /^\(\s*!(?!=)/.test(this.text.slice(frame.start, Math.min(frame.end, frame.start + 8)));
        }
        return true;
    }
  }

  private leave(frame: Frame): void {
    if (frame.type === 'function_definition' && this.fn && this.fn.node.startIndex === frame.start) {
      this.leaveFunction();
      return;
    }
    if (frame.type === 'if_statement') {
      // `if (!X) return;` gates the rest of the block on X; `if (likely(c)) { ...; return }`
      // leaves the rest of the block as the slow side.
      const block = this.parent();
      if (block?.type === 'compound_statement' && frame.returns) {
        if (frame.negated && frame.condNames) block.guardNames!.push(...frame.condNames);
        if (frame.likely === 'likely') block.afterLikelyReturn = true;
      }
    }
  }

  // ---- functions -------------------------------------------------------------------------

  private enterFunction(node: Node): string | null {
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
    const start = this.lineCol(node.startIndex).line;
    const end = this.lineCol(node.endIndex).line;
    this.facts.functions.push({
      name,
      line: start,
      endLine: end,
      isStatic: /\bstatic\b/.test(head),
      isConstructor: /\b(constructor|destructor)\b/.test(head),
      params,
      returnsGlobals: [],
      setIfUnset: null,
      getenvParam: null,
      atomicParam: null,
    });
    this.fn = { index: this.facts.functions.length - 1, node, locals, pending: [], localUses: new Map() };
    return name;
  }

  private leaveFunction(): void {
    const fn = this.fn!;
    this.fn = null;
    const resolved = new Map<Pending, Use>();
    const useOf = (p: Pending): Use => {
      let u = resolved.get(p);
      if (!u) {
        u = classifyUse(p, this.options);
        resolved.set(p, u);
      }
      return u;
    };
    for (const p of fn.pending) {
      let use = useOf(p);
      // Follow a value stored in a local to the local's uses, once: `qlen = load(); if (qlen < t)`.
      if (use.kind === 'local' && use.name) {
        const uses = (fn.localUses.get(use.name) ?? []).map(useOf).filter((u) => u.kind !== 'discard' && u.kind !== 'local');
        const strongest = strongestUse(uses);
        if (strongest) use = { ...strongest, via: use.name, text: `${use.name} = …; ${strongest.text}` };
        else if (!uses.length) use = { ...use, kind: 'discard', via: use.name };
      }
      p.resolve(use, siteContext(p));
    }
    // A function that only returns a global (a gate getter).
    const f = this.facts.functions[fn.index];
    const body = fn.node.childForFieldName('body');
    if (body && body.namedChildCount === 1 && body.namedChildren[0]?.type === 'return_statement') {
      const value = unwrap(body.namedChildren[0].namedChildren[0] ?? null);
      if (value?.type === 'identifier' && !fn.locals.has(value.text)) f.returnsGlobals.push(value.text);
    }
    // getenv facts need the whole function: its default comes from running it with getenv() = NULL.
    for (const g of this.facts.getenvs) {
      if (g.fn === fn.index && g.value.kind === 'pending') {
        const r = evaluateGateDefault(fn.node, this.text);
        g.value = r.value;
        g.cachedIn = r.cachedIn && !fn.locals.has(r.cachedIn) ? r.cachedIn : r.staticLocal;
      }
    }
  }

  // ---- declarations ----------------------------------------------------------------------

  private declaration(node: Node): void {
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

  private typedef(node: Node): void {
    const t = node.childForFieldName('type');
    const tag = t?.type === 'struct_specifier' || t?.type === 'union_specifier' ? t.childForFieldName('name')?.text : undefined;
    for (const d of node.childrenForFieldName('declarator')) {
      const name = d ? declaratorName(d) : null;
      const target = tag ?? typeName(t);
      // An anonymous `typedef struct { ... } name;` is known by its typedef name only.
      if (name && target && target !== name) this.facts.typedefs[name] = target;
    }
  }

  private fieldDeclaration(node: Node): void {
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

  private macro(node: Node): void {
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

  private call(frame: Frame, node: Node): void {
    const fnNode = node.childForFieldName('function');
    const callee = fnNode?.type === 'identifier' ? fnNode.text : null;
    if (!callee) return;
    frame.callee = callee;
    const args = (node.childForFieldName('arguments')?.namedChildren ?? []).filter((a): a is Node => !!a && a.type !== 'comment');
    const pos = this.lineCol(node.startIndex);
    const fnIndex = this.fn?.index ?? -1;

    // Inside a condition: remember the names it tests, and a `strcmp(sel, "NAME")` profile test.
    const cond = this.enclosingCondition();
    if (cond) {
      cond.condNames!.push(callee);
      if (/^(strcmp|strcasecmp|strncmp|strncasecmp)$/.test(callee)) {
        const lit = args.find((a) => a.type === 'string_literal');
        const sel = args.find((a) => a.type !== 'string_literal');
        if (lit && sel) cond.profile = { name: stringValue(lit), selector: sel.text };
      }
      if (/unlikely/i.test(callee) || (callee === '__builtin_expect' && args[1]?.text === '0')) cond.likely ??= 'unlikely';
      else if (/likely/i.test(callee) || callee === '__builtin_expect') cond.likely ??= 'likely';
    }

    if (isAtomicBuiltin(callee)) {
      const target = args[TARGET_ARG] ? this.aliasKey(unwrap(args[TARGET_ARG])!) : null;
      const order = args.map((a) => a.text).find((t) => /memory_order_|__ATOMIC_/.test(t)) ?? null;
      const end = this.lineCol(node.endIndex);
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
        result: { kind: 'discard', ...pos, text: '' },
        viaOperator: false,
      };
      this.facts.atomics.push(fact);
      this.defer(frame, pos, node.text, (use, ctx) => {
        fact.result = use;
        fact.ctx = ctx;
      });
      const f = this.currentFunction();
      if (f && target?.rootKind === 'local' && !f.atomicParam) {
        const param = f.params.findIndex((p) => p.name === target.root);
        if (param >= 0) f.atomicParam = { param, op: fact.op, callee };
      }
      this.markEnclosingIfs((i) => (i.nonPrint = true));
      return;
    }

    if (isGetenv(callee)) {
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
        ...pos,
        value: { kind: fnIndex >= 0 ? 'pending' : 'unknown' },
        cachedIn: null,
        result: { kind: 'discard', ...pos, text: '' },
      };
      this.facts.getenvs.push(fact);
      this.defer(frame, pos, node.text, (use) => (fact.result = use));
      if (cond) cond.condNames!.push(`getenv:${name ?? '?'}`);
      return;
    }

    if (callee === 'setenv') {
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
      ...pos,
      ctx: EMPTY_CONTEXT,
      args: [],
      strings: {},
      numbers: {},
      result: { kind: 'discard', ...pos, text: '' },
      profile: this.enclosingProfile(),
    };
    args.forEach((a, index) => {
      if (a.type === 'string_literal') fact.strings[index] = stringValue(a);
      else if (a.type === 'number_literal') fact.numbers[index] = a.text;
      else {
        const inner = unwrap(a);
        const addressOf = inner?.type === 'pointer_expression' && inner.text.startsWith('&');
        const key = inner ? this.aliasKey(inner) : null;
        if (key) fact.args.push({ index, key, addressOf });
      }
    });
    this.facts.calls.push(fact);
    this.defer(frame, pos, node.text, (use, ctx) => {
      fact.result = use;
      fact.ctx = ctx;
    });
  }

  private write(frame: Frame, node: Node): void {
    const target = unwrap(node.childForFieldName(frame.type === 'assignment_expression' ? 'left' : 'argument'));
    if (!target) return;
    const key = this.aliasKey(target);
    // `g_x = parse_x();`: how a gate's parsed value gets cached in a global.
    if (frame.type === 'assignment_expression' && target.type === 'identifier' && (!this.fn || !this.fn.locals.has(target.text))) {
      const right = unwrap(node.childForFieldName('right'));
      if (right?.type === 'call_expression') {
        const callee = right.childForFieldName('function');
        if (callee?.type === 'identifier') {
          this.facts.globalAssigns.push({ global: target.text, callee: callee.text, fn: this.fn?.index ?? -1, line: this.lineCol(node.startIndex).line });
        }
      }
    }
    if (key && key.rootKind !== 'local') {
      this.markEnclosingIfs((i) => (i.nonPrint = true));
      const pos = this.lineCol(node.startIndex);
      const end = this.lineCol(node.endIndex);
      const op: AtomicOp = frame.type === 'update_expression' || (frame.type === 'assignment_expression' && !/^=$/.test(assignOperator(node))) ? 'rmw' : 'store';
      // Kept as a candidate: it is an atomic operation only if the object is declared _Atomic.
      const fact: AtomicFact = {
        callee: frame.type === 'update_expression' ? (node.text.includes('--') ? '--' : '++') : assignOperator(node),
        op,
        order: 'memory_order_seq_cst',
        key,
        fn: this.fn?.index ?? -1,
        ...pos,
        endLine: end.line,
        endColumn: end.column,
        ctx: EMPTY_CONTEXT,
        result: { kind: 'discard', ...pos, text: '' },
        viaOperator: true,
      };
      this.facts.atomics.push(fact);
      this.defer(frame, pos, node.text, (use, ctx) => {
        fact.result = use;
        fact.ctx = ctx;
      });
    } else if (target.type === 'identifier' && this.fn?.locals.has(target.text)) {
      // A write to a local is not a use of it; assignment of other values is handled by access().
    } else {
      this.markEnclosingIfs((i) => (i.nonPrint = true));
    }
    if (target.type === 'identifier' && target.text === 'errno') this.markInnermostIf((i) => (i.errorExit = true));
  }

  /** A read of an object: the top of a field/subscript chain, or a plain identifier. */
  private access(frame: Frame, node: () => Node): void {
    const parent = this.parent();
    if (!parent) return;
    // Only the top of a chain (`a.b[i].c`), not its inner parts.
    if ((parent.type === 'field_expression' || parent.type === 'subscript_expression') && frame.field === 'argument') return;
    if (parent.type === 'call_expression' && frame.field === 'function') return;
    if (frame.field === 'declarator' || parent.type === 'init_declarator' && frame.field === 'declarator') return;
    if (parent.type === 'pointer_declarator' || parent.type === 'array_declarator' || parent.type === 'function_declarator') return;
    if (parent.type === 'parameter_declaration' || parent.type === 'labeled_statement' || parent.type === 'goto_statement') return;
    // Write targets are handled by write(); the target of an atomic builtin by call().
    if ((parent.type === 'assignment_expression' && frame.field === 'left') || parent.type === 'update_expression') return;
    if (this.isAtomicTargetArgument()) return;
    const n = node();
    // Macros and enum constants (ALL_CAPS) are not objects.
    if (frame.type === 'identifier' && /^[A-Z_][A-Z0-9_]*$/.test(n.text)) return;
    // Record the condition's names for gate tracking.
    const cond = this.enclosingCondition();
    if (cond && frame.type === 'identifier') cond.condNames!.push(n.text);
    if (!this.fn) return;
    if (frame.type === 'identifier' && this.fn.locals.has(n.text)) {
      const uses = this.fn.localUses.get(n.text) ?? [];
      this.fn.localUses.set(n.text, uses);
      uses.push({ frames: [...this.frames, frame], ...this.lineCol(frame.start), text: n.text, resolve: () => {} });
      if (!this.fn.locals.get(n.text)!.aliasOf) return;
    }
    const key = this.aliasKey(n);
    if (!key || key.rootKind === 'local') return;
    const fact: ReadFact = { key, fn: this.fn.index, use: { kind: 'discard', line: 0, column: 0, text: '' } };
    this.facts.reads.push(fact);
    this.defer(frame, this.lineCol(frame.start), n.text, (use) => (fact.use = use));
  }

  /** Is the current node (inside) the target argument of an atomic builtin? */
  private isAtomicTargetArgument(): boolean {
    for (let i = this.frames.length - 1; i > 0; i--) {
      const f = this.frames[i];
      if (f.type === 'argument_list') {
        const call = this.frames[i - 1];
        const arg = this.frames[i + 1];
        return !!call.callee && isAtomicBuiltin(call.callee) && arg !== undefined && argumentIndex(this.frames[i], arg) === TARGET_ARG;
      }
      if (!PASS_THROUGH.has(f.type) && f.type !== 'field_expression' && f.type !== 'subscript_expression') return false;
    }
    return false;
  }

  /** The object an lvalue-ish expression names, resolving locals that alias a global. */
  private aliasKey(expr: Node): AccessKey | null {
    const path: string[] = [];
    let n: Node | null = unwrap(expr);
    for (let guard = 0; n && guard < 32; guard++) {
      if (n.type === 'field_expression') {
        const field = n.childForFieldName('field');
        if (field) path.unshift(field.text);
        n = unwrap(n.childForFieldName('argument'));
      } else if (n.type === 'subscript_expression') {
        n = unwrap(n.childForFieldName('argument'));
      } else if (n.type === 'pointer_expression') {
        n = unwrap(n.childForFieldName('argument'));
      } else if (n.type === 'binary_expression' && /^[+-]/.test(n.text.slice((n.childForFieldName('left')?.endIndex ?? 0) - n.startIndex).trim())) {
        n = unwrap(n.childForFieldName('left'));
      } else break;
    }
    if (!n || n.type !== 'identifier') return null;
    const root = n.text;
    // The object, not its address: `&g[i].x` is written `g[i].x`.
    let named: Node = unwrap(expr) ?? expr;
    if (named.type === 'pointer_expression' && named.text.startsWith('&')) named = unwrap(named.childForFieldName('argument')) ?? named;
    const text = named.text.length > 120 ? `${named.text.slice(0, 117)}...` : named.text;
    const local = this.fn?.locals.get(root);
    if (local) {
      if (local.aliasOf) return { ...local.aliasOf, path: [...local.aliasOf.path, ...path], text };
      const type = local.type;
      if (type && path.length) return { root: type, rootKind: 'type', path, text };
      return { root, rootKind: 'local', path, text };
    }
    return { root, rootKind: 'global', path, text };
  }

  private defer(frame: Frame, pos: { line: number; column: number }, text: string, resolve: Pending['resolve']): void {
    const p: Pending = { frames: [...this.frames, frame], ...pos, text, resolve };
    for (const f of this.frames) {
      if (f.type !== 'compound_statement') continue;
      if (f.afterLikelyReturn) p.afterLikelyReturn = true;
      if (f.guardNames?.length) (p.guardNames ??= []).push(...f.guardNames);
    }
    if (this.fn) this.fn.pending.push(p);
    else resolve(classifyUse(p, this.options), siteContext(p));
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

const OPERATOR_PARENTS = new Set(['binary_expression', 'unary_expression', 'assignment_expression', 'update_expression', 'pointer_expression']);
const PASS_THROUGH = new Set(['parenthesized_expression', 'cast_expression', 'pointer_expression', 'comma_expression']);
const STATEMENT_BOUNDARY = new Set(['compound_statement', 'expression_statement', 'declaration', 'function_definition', 'translation_unit']);

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

function argumentIndex(argList: Frame, arg: Frame): number {
  // childIndex counts '(' and ',' too: argument k sits at 2k+1.
  void argList;
  return (arg.childIndex - 1) >> 1;
}

function classifyUse(p: Pending, options: ExtractOptions): Use {
  const frames = p.frames;
  const at = { line: p.line, column: p.column, text: p.text };
  const reporting = reportingFunction(frames, options);
  const mk = (kind: Use['kind'], extra: Partial<Use> = {}): Use => {
    if (reporting && kind !== 'discard' && kind !== 'local' && kind !== 'return') return { kind: kind === 'print' ? 'print' : 'print-guard', ...at, ...extra };
    return { kind, ...at, ...extra };
  };
  for (let i = frames.length - 2; i >= 0; i--) {
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
        if (child.field === 'condition') {
          if (f.type === 'if_statement' && f.prints && !f.nonPrint) return mk('print-guard');
          return mk('condition');
        }
        return mk('discard');
      case 'return_statement':
        return mk('return');
      case 'subscript_expression':
        return child.field === 'index' ? mk('index') : mk('unknown');
      case 'argument_list': {
        const call = frames[i - 1];
        const callee = call?.callee ?? '';
        const index = argumentIndex(f, child);
        if (options.isPrintCallee(callee)) return mk('print', { name: callee });
        if (isAtomicBuiltin(callee)) {
          const op = atomicOpOf(callee);
          return mk(op === 'cas' ? 'cas' : op === 'exchange' ? 'exchange' : 'arith', { name: callee });
        }
        return mk('call', { name: callee, argIndex: index });
      }
      case 'init_declarator':
        if (child.field === 'value') {
          const name = f.name;
          return name ? mk('local', { name }) : mk('assign');
        }
        return mk('unknown');
      case 'assignment_expression':
        if (child.field === 'right') return mk('assign');
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

/** A comparison's result: a condition when it ends up in one, else an arithmetic use. */
function condOrCompare(frames: Frame[], i: number, mk: (k: Use['kind']) => Use): Use {
  for (let j = i - 1; j >= 0; j--) {
    const f = frames[j];
    const child = frames[j + 1];
    if (PASS_THROUGH.has(f.type) || f.type === 'unary_expression') continue;
    if (f.type === 'binary_expression') continue;
    if (CONDITION_OWNERS.has(f.type) && child.field === 'condition') {
      if (f.type === 'if_statement' && f.prints && !f.nonPrint) return mk('print-guard');
      return mk('condition');
    }
    if (f.type === 'conditional_expression' && child.field === 'condition') return mk('condition');
    if (f.type === 'return_statement') return mk('return');
    break;
  }
  return mk('condition');
}

/** Reads inside a dump/print/report function only feed its output. */
function reportingFunction(frames: Frame[], options: ExtractOptions): boolean {
  for (const f of frames) if (f.type === 'function_definition' && f.name) return options.isReportingFunction(f.name);
  return false;
}

function siteContext(p: Pending): SiteContext {
  const frames = p.frames;
  const ctx: SiteContext = { slowBranch: !!p.afterLikelyReturn, errorBranch: false, warmBranch: null, coldBranch: null, conditionNames: [...(p.guardNames ?? [])] };
  let innermost = true;
  let insideExpect = false;
  for (let i = frames.length - 1; i > 0; i--) {
    const f = frames[i - 1];
    const child = frames[i];
    if (f.type === 'function_definition') break;
    if (f.type === 'call_expression' && f.callee && /likely|__builtin_expect/i.test(f.callee)) insideExpect = true;
    // `if (unlikely(x) && f())`: f only runs on the unlikely side.
    if (f.type === 'if_statement' && child.field === 'condition' && f.likely === 'unlikely' && !insideExpect) ctx.slowBranch = true;
    if (f.type === 'if_statement' && (child.field === 'consequence' || child.field === 'alternative')) {
      const inConsequence = child.field === 'consequence';
      if ((inConsequence && f.likely === 'unlikely') || (!inConsequence && f.likely === 'likely')) ctx.slowBranch = true;
      if (f.errorExit && inConsequence) ctx.errorBranch = true;
      if (innermost) {
        ctx.warmBranch = f.warmCall ?? null;
        ctx.coldBranch = f.coldCall ?? null;
        innermost = false;
      }
      if (inConsequence && !f.negated && f.condNames) ctx.conditionNames.push(...f.condNames);
    }
  }
  return ctx;
}

// ---- small tree helpers ---------------------------------------------------------------------

/** Strips parentheses and casts. */
export function unwrap(n: Node | null): Node | null {
  while (n && (n.type === 'parenthesized_expression' || n.type === 'cast_expression')) {
    n = n.type === 'cast_expression' ? n.childForFieldName('value') : n.namedChildren.find((c) => c?.type !== 'comment') ?? null;
  }
  return n;
}

export function declaratorName(d: Node | null): string | null {
  for (let guard = 0; d && guard < 16; guard++) {
    if (d.type === 'identifier' || d.type === 'field_identifier' || d.type === 'type_identifier') return d.text;
    d = d.childForFieldName('declarator');
  }
  return null;
}

function typeName(t: Node | null): string {
  if (!t) return '';
  if (t.type === 'struct_specifier' || t.type === 'union_specifier' || t.type === 'enum_specifier') return t.childForFieldName('name')?.text ?? '';
  return t.text;
}

function isAtomicType(decl: Node, text: string): boolean {
  const t = decl.childForFieldName('type');
  const head = text.slice(decl.startIndex, t ? t.endIndex : decl.startIndex);
  return /\b_Atomic\b|\batomic_[a-z_0-9]+\b/.test(head);
}

function assignOperator(node: Node): string {
  const left = node.childForFieldName('left');
  const right = node.childForFieldName('right');
  if (!left || !right) return '=';
  return node.text.slice(left.endIndex - node.startIndex, right.startIndex - node.startIndex).trim() || '=';
}

export function stringValue(lit: Node): string {
  const parts = lit.namedChildren.filter((c) => c?.type === 'string_content' || c?.type === 'escape_sequence');
  return parts.map((c) => c!.text).join('');
}

function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}
