// The workspace half of the analysis: joins every file's facts into the audit report. Pure data in,
// pure data out, no parsing.
//
// It is incremental, because it runs on every (debounced) edit. The model keeps its tables (who
// defines and calls what, who reads which object) per file, and three versions:
//  - declarations (functions, typedefs, globals, _Atomic fields, wrapper macros): when a file's
//    declarations change, every table is rebuilt;
//  - the call graph and the gates (calls and their branch context, getenv, presets): when they
//    change, temperatures and gates are recomputed and every file's atomics are redone;
//  - otherwise only the edited file and the files whose counters it reads are redone.
// Signatures leave out positions, so an edit that only moves code keeps the caches.
import type { AccessKey, AtomicFact, CallFact, FileFacts, FunctionFact, GetenvFact, ReadFact, SiteContext, Use } from './facts';
import { COLD_NAME, DIAGNOSTIC_NAME, WARM_NAME, globToRegExp, type AnalysisOptions } from './options';
import { activeAt, buildMacroEnv, guardAt, inactiveRegions, type MacroEnv, type PpFacts } from './preprocessor';
import type {
  AtomicOp,
  AtomicReport,
  AuditReport,
  Classification,
  EnvGateReport,
  Evidence,
  Finding,
  FlagReport,
  GateDefault,
  InactiveRegion,
  SourceRef,
  Temperature,
} from './report';

export interface AnalyzedFile {
  /** Path relative to the root, with forward slashes. */
  file: string;
  pp: PpFacts;
  /** null when the prefilter decided the file cannot matter (no atomics, getenv, ...). */
  facts: FileFacts | null;
}

interface FnRef {
  file: AnalyzedFile;
  fact: FunctionFact;
  index: number;
  id: string;
}

interface CallRef {
  file: AnalyzedFile;
  call: CallFact;
  caller: FnRef | null;
}

interface Site {
  file: AnalyzedFile;
  fn: FnRef | null;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  op: AtomicOp;
  callee: string;
  order: string | null;
  key: AccessKey;
  ctx: SiteContext;
  result: Use;
}

/** Something that yields evidence for the objects it names: a read, or a site's returned value. */
type ReadRef = { keys: string[]; file: AnalyzedFile } & ({ read: ReadFact; site?: undefined } | { site: Site; read?: undefined });

interface FileState {
  file: AnalyzedFile;
  /**
   * Directives (with lines): flags and regions are redone only when one of these changes.
   * Computed when first compared (an edit of the file), not when the file is added.
   */
  ppSig?: string;
  declSig?: string;
  graphSig?: string;
  sites: Site[];
  reads: ReadRef[];
  /** Match keys of this file's write sites (which reads matter to it). */
  siteKeys: Set<string>;
  cached: { atomics: AtomicReport[]; findings: Finding[] } | null;
}

const RANK: Record<Temperature, number> = { hot: 3, warm: 2, cold: 1, unknown: 0 };

/** One-shot analysis of a set of files. */
export function analyze(root: string, files: readonly AnalyzedFile[], options: AnalysisOptions): AuditReport {
  const model = new AnalysisModel(options);
  for (const f of files) model.setFile(f);
  return model.report(root);
}

export class AnalysisModel {
  private readonly states = new Map<string, FileState>();
  private declsDirty = true;
  private graphDirty = true;
  // Declaration tables (rebuilt when declarations change).
  private fns = new Map<string, FnRef[]>();
  private typedefs = new Map<string, string>();
  private globalTypes = new Map<string, string>();
  private atomicDecls = new Set<string>();
  private atomicFieldNames = new Set<string>();
  private macroAtomic = new Map<string, { param: number; op: AtomicOp; callee: string }>();
  private printMacros = new Set<string>();
  // Call graph (rebuilt when declarations or calls change).
  private callsTo = new Map<string, CallRef[]>();
  private temps = new Map<string, { temp: Temperature; reason: string }>();
  private gateState: { reports: EnvGateReport[]; index: GateIndex } | null = null;
  // Reads by match key (kept up to date per file).
  /** In insertion order; lists, not sets, because there are tens of thousands of keys. */
  private readIndex = new Map<string, ReadRef[]>();
  private readonly ignoredReads: RegExp[];
  /** The macro values the cached findings were computed under. */
  private envSig = '';
  /** Bumped when any file's directives change or files come and go. */
  private ppVersion = 0;
  private envCache: { version: number; env: MacroEnv; sig: string } | null = null;
  private sortedStates: FileState[] | null = null;
  private readonly ignoredFiles = new Map<string, boolean>();

  constructor(private readonly options: AnalysisOptions) {
    this.ignoredReads = options.ignoreReadsIn.map(globToRegExp);
  }

  /** Adds or replaces a file. */
  setFile(file: AnalyzedFile): void {
    const old = this.states.get(file.file);
    const state: FileState = { file, sites: [], reads: [], siteKeys: new Set(), cached: null };
    if (old) {
      state.declSig = declSignature(file.facts);
      state.graphSig = graphSignature(file.facts);
      state.ppSig = old.file.pp === file.pp ? (old.ppSig ??= ppSignature(old.file.pp)) : ppSignature(file.pp);
      if ((old.declSig ??= declSignature(old.file.facts)) !== state.declSig) this.declsDirty = true;
      if ((old.graphSig ??= graphSignature(old.file.facts)) !== state.graphSig) this.graphDirty = true;
      if ((old.ppSig ??= ppSignature(old.file.pp)) !== state.ppSig) this.ppVersion++;
    } else {
      this.declsDirty = true;
      this.graphDirty = true;
      this.ppVersion++;
    }
    this.evidenceCache.clear();
    // Keep the sorted file list in step: replace the old state in place, or re-sort on additions.
    const at = old && this.sortedStates ? this.sortedStates.indexOf(old) : -1;
    if (at >= 0) this.sortedStates![at] = state;
    else this.sortedStates = null;
    if (old && !this.declsDirty) {
      // Same declarations: swap this file's function refs and calls in place.
      this.unindexFile(old);
      this.states.set(file.file, state);
      this.indexFunctions(state);
      this.indexCalls(state);
      this.indexReads(state);
      this.invalidateReaders(old, state);
    } else {
      this.states.set(file.file, state);
    }
  }

  removeFile(name: string): void {
    this.evidenceCache.clear();
    if (this.states.delete(name)) {
      this.ppVersion++;
      this.sortedStates = null;
      this.declsDirty = true;
      this.graphDirty = true;
    }
  }

  // ---- tables ----------------------------------------------------------------------------------

  private rebuild(): void {
    this.fns = new Map();
    this.typedefs = new Map();
    this.globalTypes = new Map();
    this.atomicDecls = new Set();
    this.atomicFieldNames = new Set();
    this.macroAtomic = new Map();
    this.printMacros = new Set();
    this.callsTo = new Map();
    this.readIndex = new Map();
    this.canonCache.clear();
    this.matchKeysCache = new WeakMap();
    this.fnAtCache = new WeakMap();
    this.atomicCanon = null;
    this.evidenceCache.clear();
    for (const s of this.states.values()) {
      const facts = s.file.facts;
      if (!facts) continue;
      for (const [k, v] of Object.entries(facts.typedefs)) this.typedefs.set(k, v);
      for (const [k, v] of Object.entries(facts.globalTypes)) this.globalTypes.set(k, v);
      for (const d of facts.atomicDecls) {
        this.atomicDecls.add(d);
        const dot = d.lastIndexOf('.');
        if (dot >= 0) this.atomicFieldNames.add(d.slice(dot + 1));
      }
      for (const m of facts.macros) {
        if (m.atomicParam) this.macroAtomic.set(m.name, m.atomicParam);
        if (m.prints) this.printMacros.add(m.name);
      }
    }
    for (const s of this.states.values()) this.indexFunctions(s);
    for (const s of this.states.values()) this.indexCalls(s);
    for (const s of this.states.values()) this.indexReads(s);
    this.declsDirty = false;
    this.graphDirty = true;
  }

  private indexFunctions(s: FileState): void {
    s.file.facts?.functions.forEach((fact, index) => {
      const ref: FnRef = { file: s.file, fact, index, id: `${s.file.file}#${fact.name}` };
      const list = this.fns.get(fact.name) ?? [];
      list.push(ref);
      this.fns.set(fact.name, list);
    });
  }

  private indexCalls(s: FileState): void {
    for (const call of s.file.facts?.calls ?? []) {
      const list = this.callsTo.get(call.callee) ?? [];
      list.push({ file: s.file, call, caller: this.fnAt(s.file, call.fn) });
      this.callsTo.set(call.callee, list);
    }
  }

  private unindexFile(s: FileState): void {
    for (const fact of s.file.facts?.functions ?? []) {
      const list = this.fns.get(fact.name);
      if (!list) continue;
      const kept = list.filter((r) => r.file !== s.file);
      if (kept.length === list.length) continue;
      if (kept.length) this.fns.set(fact.name, kept);
      else this.fns.delete(fact.name);
    }
    // Each callee once: a file calls the same function (an atomic builtin) many times.
    for (const callee of new Set((s.file.facts?.calls ?? []).map((c) => c.callee))) {
      const list = this.callsTo.get(callee);
      if (!list) continue;
      const kept = list.filter((c) => c.file !== s.file);
      if (kept.length) this.callsTo.set(callee, kept);
      else this.callsTo.delete(callee);
    }
    if (s.reads.length) {
      const gone = new Set(s.reads);
      const touched = new Set<string>();
      for (const r of s.reads) for (const k of r.keys) touched.add(k);
      for (const k of touched) {
        const list = this.readIndex.get(k);
        if (list) this.readIndex.set(k, list.filter((r) => !gone.has(r)));
      }
    }
  }

  /** Clears the cached atomics of the files whose counters the changed file reads or writes. */
  private invalidateReaders(old: FileState, now: FileState): void {
    const touched = new Set<string>();
    for (const r of [...old.reads, ...now.reads]) for (const k of r.keys) touched.add(k);
    for (const s of this.states.values()) {
      if (!s.cached) continue;
      for (const k of s.siteKeys) {
        if (touched.has(k)) {
          s.cached = null;
          break;
        }
      }
    }
  }

  /** This file's write sites and everything in it that reads an object. */
  private indexReads(s: FileState): void {
    const f = s.file;
    const facts = f.facts;
    if (!facts) return;
    s.sites = this.collectSites(f);
    s.siteKeys = new Set(s.sites.flatMap((site) => this.matchKeys(site.key)));
    const reads: ReadRef[] = [];
    for (const r of facts.reads) {
      // The object handed to an atomic wrapper (`STAT_INC(g.x)`) is its target, not a read;
      // what the wrapper returns is followed from its call instead.
      if (r.use.kind === 'call' && r.use.name && this.wrapperOf(r.use.name, f)?.param === r.use.argIndex) continue;
      if (r.use.kind === 'discard' || r.use.kind === 'local') continue;
      reads.push({ keys: this.matchKeys(r.key), file: f, read: r });
    }
    // The value an atomic operation returns is a read too (loads, and `if (fetch_sub(..) == 1)`).
    for (const site of s.sites) reads.push({ keys: this.matchKeys(site.key), file: f, site });
    s.reads = reads;
    for (const r of reads) {
      for (const k of r.keys) {
        const list = this.readIndex.get(k);
        if (!list) this.readIndex.set(k, [r]);
        else if (list[list.length - 1] !== r) list.push(r);
      }
    }
  }

  private evidenceOf(ref: ReadRef): Evidence[] {
    const f = ref.file;
    if (ref.read) return this.evidence(ref.read.use, f, this.fnAt(f, ref.read.fn));
    const site = ref.site;
    const ev = this.evidence(site.result, f, site.fn);
    if (site.op === 'cas' || site.op === 'exchange') ev.push({ file: f.file, line: site.line, column: site.column, kind: site.op, function: site.fn?.fact.name ?? null, text: site.callee });
    return ev;
  }

  // ---- names and keys ------------------------------------------------------------------------

  private fnAt(file: AnalyzedFile, index: number): FnRef | null {
    if (index < 0 || !file.facts) return null;
    let refs = this.fnAtCache.get(file);
    if (!refs) this.fnAtCache.set(file, (refs = []));
    let ref = refs[index];
    if (ref === undefined) {
      const fact = file.facts.functions[index];
      refs[index] = ref = fact ? (this.resolveFn(fact.name, file) ?? null) : null;
    }
    return ref;
  }

  /**
   * fnAt by file and index: a function of a file resolves to that file's own definition, which
   * only changes when the file does (a new AnalyzedFile) or the tables are rebuilt.
   */
  private fnAtCache = new WeakMap<AnalyzedFile, (FnRef | null)[]>();

  /** The definition a call of `name` from `file` reaches: the same file's (static) one first. */
  private resolveFn(name: string, file?: AnalyzedFile): FnRef | undefined {
    const list = this.fns.get(name);
    if (!list) return undefined;
    return (file && list.find((r) => r.file === file)) ?? list.find((r) => !r.fact.isStatic) ?? list[0];
  }

  private wrapperOf(callee: string, file: AnalyzedFile): { param: number; op: AtomicOp; callee: string } | null {
    return this.macroAtomic.get(callee) ?? this.resolveFn(callee, file)?.fact.atomicParam ?? null;
  }

  private readonly canonCache = new Map<string, string>();

  private canonType(t: string): string {
    let c = this.canonCache.get(t);
    if (c === undefined) this.canonCache.set(t, (c = this.canonTypeUncached(t)));
    return c;
  }

  private canonTypeUncached(t: string): string {
    let name = t.replace(/\b(const|volatile|struct|union|_Atomic|restrict)\b/g, '').replace(/[*\s]/g, '');
    for (let i = 0; i < 8 && this.typedefs.has(name) && this.typedefs.get(name) !== name; i++) name = this.typedefs.get(name)!;
    return name;
  }

  /** The names an access can be matched by: `g.f` and, for a typed root, `Type.f`. */
  private matchKeys(key: AccessKey): string[] {
    let keys = this.matchKeysCache.get(key);
    if (!keys) this.matchKeysCache.set(key, (keys = this.matchKeysUncached(key)));
    return keys;
  }

  /** By key object (a file's facts share equal keys); cleared with the declaration tables. */
  private matchKeysCache = new WeakMap<AccessKey, string[]>();

  private matchKeysUncached(key: AccessKey): string[] {
    const path = key.path.join('.');
    if (key.rootKind === 'type') return [`${this.canonType(key.root)}.${path}`];
    const keys = [path ? `${key.root}.${path}` : key.root];
    const t = this.globalTypes.get(key.root);
    if (t && path) keys.push(`${this.canonType(t)}.${path}`);
    return keys;
  }

  private familyOf(key: AccessKey): { base: string; field: string | null } {
    const field = key.path.length ? key.path.join('.') : null;
    return { base: key.rootKind === 'type' ? this.canonType(key.root) : key.root, field };
  }

  private atomicCanon: Set<string> | null = null;

  private atomicCanonFields(): Set<string> {
    if (!this.atomicCanon) {
      this.atomicCanon = new Set();
      for (const d of this.atomicDecls) {
        const dot = d.lastIndexOf('.');
        if (dot > 0) this.atomicCanon.add(`${this.canonType(d.slice(0, dot))}.${d.slice(dot + 1)}`);
      }
    }
    return this.atomicCanon;
  }

  /** Is this object declared _Atomic (so `x++` on it is an atomic read-modify-write)? */
  private isAtomicObject(key: AccessKey): boolean {
    if (key.rootKind === 'local') return false;
    if (!key.path.length) return this.atomicDecls.has(key.root);
    const last = key.path[key.path.length - 1];
    if (!this.atomicFieldNames.has(last)) return false;
    if (key.path.length === 1) {
      const owner = key.rootKind === 'type' ? this.canonType(key.root) : this.canonType(this.globalTypes.get(key.root) ?? '');
      // Field declarations are recorded under the struct tag or typedef name: compare canonically.
      if (owner) return this.atomicCanonFields().has(`${owner}.${last}`);
    }
    return true;
  }

  // ---- temperature ---------------------------------------------------------------------------

  private computeTemperatures(): void {
    this.temps = new Map();
    const exact = new Set(this.options.entryPoints.filter((e) => !e.includes('*') && !e.includes('?')));
    const globs = this.options.entryPoints.filter((e) => e.includes('*') || e.includes('?')).map((e) => ({ e, re: globToRegExp(e) }));
    const queue: FnRef[] = [];
    const callsFrom = new Map<string, CallRef[]>();
    for (const list of this.callsTo.values()) {
      for (const c of list) {
        if (!c.caller) continue;
        const from = callsFrom.get(c.caller.id) ?? [];
        from.push(c);
        callsFrom.set(c.caller.id, from);
      }
    }
    for (const [name, refs] of this.fns) {
      const glob = exact.has(name) ? undefined : globs.find((g) => g.re.test(name));
      if (!exact.has(name) && !(glob && !this.callsTo.has(name))) continue;
      for (const r of refs) {
        this.temps.set(r.id, { temp: 'hot', reason: glob ? `${name} is an API entry point (matches ${glob.e}, nothing calls it)` : `${name} is an entry point` });
        queue.push(r);
      }
    }
    // Hottest-first propagation: a function's temperature only ever rises, so this terminates.
    for (let head = 0, guard = 0; head < queue.length && guard < 1_000_000; head++, guard++) {
      const caller = queue[head];
      const callerTemp = this.temps.get(caller.id)!.temp;
      for (const { call } of callsFrom.get(caller.id) ?? []) {
        const callee = this.resolveFn(call.callee, caller.file);
        if (!callee) continue;
        const { temp, why } = this.siteTemperature(callerTemp, call.ctx, call.callee);
        const prev = this.temps.get(callee.id);
        if (prev && RANK[prev.temp] >= RANK[temp]) continue;
        this.temps.set(callee.id, { temp, reason: `called from ${caller.fact.name} (${callerTemp}) at ${caller.file.file}:${call.line}${why ? `, ${why}` : ''}` });
        queue.push(callee);
      }
    }
    for (const refs of this.fns.values()) {
      for (const r of refs) {
        if (this.temps.has(r.id)) continue;
        if (r.fact.isConstructor) this.temps.set(r.id, { temp: 'cold', reason: 'a constructor/destructor: runs once' });
        else if (COLD_NAME.test(r.fact.name)) this.temps.set(r.id, { temp: 'cold', reason: 'not reached from an entry point; the name says init/dump/error code' });
      }
    }
  }

  private siteTemperature(callerTemp: Temperature, ctx: SiteContext, callee: string): { temp: Temperature; why: string } {
    if (callerTemp === 'unknown') return { temp: 'unknown', why: '' };
    if (callee && COLD_NAME.test(callee)) return { temp: 'cold', why: `${callee} is init/mmap/dump/error code` };
    if (ctx.errorBranch) return { temp: 'cold', why: 'in an error branch' };
    if (ctx.coldBranch) return { temp: 'cold', why: `in the branch that calls ${ctx.coldBranch}` };
    const cap = (why: string) => ({ temp: RANK[callerTemp] > RANK.warm ? ('warm' as const) : callerTemp, why });
    if (ctx.slowBranch) return cap('on the unlikely side of a branch');
    if (ctx.warmBranch) return cap(`in the branch that calls ${ctx.warmBranch}`);
    if (callee && WARM_NAME.test(callee)) return cap(`${callee} is a refill/slow/miss path`);
    return { temp: callerTemp, why: callee ? 'on its straight-line path' : '' };
  }

  private fnTemperature(fn: FnRef | null): { temp: Temperature; reason: string } {
    if (!fn) return { temp: 'unknown', reason: 'outside any function' };
    return this.temps.get(fn.id) ?? { temp: 'unknown', reason: `${fn.fact.name} is not reached from an entry point (allocLens.analysis.entryPoints)` };
  }

  // ---- atomics -------------------------------------------------------------------------------

  private collectSites(f: AnalyzedFile): Site[] {
    const sites: Site[] = [];
    if (!f.facts) return sites;
    for (const a of f.facts.atomics) {
      if (!a.key) continue;
      if (a.viaOperator && !this.isAtomicObject(a.key)) continue;
      sites.push(this.site(f, a));
    }
    // Calls of atomic wrapper macros and functions: the wrapped operation applies to an argument.
    for (const call of f.facts.calls) {
      const wrapped = this.wrapperOf(call.callee, f);
      if (!wrapped) continue;
      const arg = call.args.find((x) => x.index === wrapped.param);
      if (!arg || arg.key.rootKind === 'local') continue;
      sites.push({
        file: f,
        fn: this.fnAt(f, call.fn),
        line: call.line,
        column: call.column,
        endLine: call.line,
        endColumn: call.column + call.callee.length,
        op: wrapped.op,
        callee: call.callee,
        order: null,
        key: arg.key,
        ctx: call.ctx,
        result: call.result,
      });
    }
    return sites;
  }

  private site(f: AnalyzedFile, a: AtomicFact): Site {
    return {
      file: f,
      fn: this.fnAt(f, a.fn),
      line: a.line,
      column: a.column,
      endLine: a.endLine,
      endColumn: a.endColumn,
      op: a.op,
      callee: a.callee,
      order: a.order,
      key: a.key!,
      ctx: a.ctx,
      result: a.result,
    };
  }

  /** Follows a returned value to what the callers of the returning function do with it. */
  private followReturn(use: Use, fn: FnRef | null, depth: number): { use: Use; file: AnalyzedFile; fn: FnRef | null }[] {
    if (use.kind !== 'return' || !fn || depth > 3) return [];
    const out: { use: Use; file: AnalyzedFile; fn: FnRef | null }[] = [];
    for (const c of this.callsTo.get(fn.fact.name) ?? []) {
      if (this.resolveFn(fn.fact.name, c.file) !== fn) continue;
      const r = c.call.result;
      if (r.kind === 'return') out.push(...this.followReturn(r, c.caller, depth + 1));
      else if (r.kind !== 'discard') out.push({ use: r, file: c.file, fn: c.caller });
    }
    return out;
  }

  private isIgnored(file: string): boolean {
    let v = this.ignoredFiles.get(file);
    if (v === undefined) this.ignoredFiles.set(file, (v = this.ignoredReads.some((re) => re.test(file))));
    return v;
  }

  private evidence(use: Use, file: AnalyzedFile, fn: FnRef | null): Evidence[] {
    if (use.kind === 'discard' || use.kind === 'local') return [];
    if (use.kind === 'return') {
      const followed = this.followReturn(use, fn, 0);
      if (followed.length) return followed.flatMap((x) => this.evidence(x.use, x.file, x.fn)).map((e) => ({ ...e, text: `${fn?.fact.name}() → ${e.text ?? ''}` }));
    }
    let kind = use.kind as Evidence['kind'];
    if (use.kind === 'call' && use.name && (this.printMacros.has(use.name) || this.options.printFunctions.includes(use.name))) kind = 'print';
    if (kind !== 'print' && kind !== 'print-guard' && this.isIgnored(file.file)) kind = 'test';
    return [{ file: file.file, line: use.line, column: use.column, kind, function: fn?.fact.name ?? null, text: use.text.length > 160 ? `${use.text.slice(0, 157)}...` : use.text }];
  }

  private fileAtomics(s: FileState, env: MacroEnv, gates: GateIndex, gateReports: Map<string, EnvGateReport>): { atomics: AtomicReport[]; findings: Finding[] } {
    const out: AtomicReport[] = [];
    for (const site of s.sites) {
      if (site.op === 'load') continue; // loads are evidence, not write sites
      const { evidence, classification, reason } = this.evidenceFor(site.key);
      const fnTemp = this.fnTemperature(site.fn);
      const siteTemp = this.siteTemperature(fnTemp.temp, site.ctx, '');
      const temperatureReason = siteTemp.why && siteTemp.temp !== fnTemp.temp ? `${siteTemp.why}; ${site.fn?.fact.name} is ${fnTemp.temp}: ${fnTemp.reason}` : fnTemp.reason;
      const guard = guardAt(s.file.pp, site.line);
      const family = this.familyOf(site.key);
      out.push({
        file: s.file.file,
        line: site.line,
        column: site.column,
        endLine: site.endLine,
        endColumn: site.endColumn,
        function: site.fn?.fact.name ?? null,
        op: site.op,
        callee: site.callee,
        order: site.order,
        target: site.key.text,
        base: family.base,
        field: family.field,
        family: family.base,
        classification,
        reason,
        evidence,
        temperature: siteTemp.temp,
        temperatureReason,
        guard: guard?.macro ?? null,
        gates: gates.gatesOf(site.fn, site.ctx),
      });
    }
    out.sort((a, b) => a.line - b.line || a.column - b.column);
    return { atomics: out, findings: this.fileFindings(s, out, env, gateReports) };
  }

  /**
   * Everything that reads the object `key` names, and what that makes it. The same for every
   * site of one counter, so it is kept until any file changes.
   */
  private evidenceFor(key: AccessKey): { evidence: Evidence[]; classification: Classification; reason: string } {
    const keys = this.matchKeys(key);
    const id = keys.join('\u0001');
    let hit = this.evidenceCache.get(id);
    if (!hit) {
      const seen = new Set<string>();
      const evidence: Evidence[] = [];
      const refs = new Set<ReadRef>();
      for (const k of keys) for (const r of this.readIndex.get(k) ?? []) refs.add(r);
      for (const r of refs) {
        for (const e of this.evidenceOf(r)) {
          const eid = `${e.file}:${e.line}:${e.column}:${e.kind}`;
          if (seen.has(eid)) continue;
          seen.add(eid);
          evidence.push(e);
        }
      }
      evidence.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || (a.column ?? 0) - (b.column ?? 0));
      hit = { evidence, ...classify(evidence) };
      this.evidenceCache.set(id, hit);
    }
    // Each site gets its own array (the evidence items are shared).
    return { ...hit, evidence: hit.evidence.slice() };
  }

  private readonly evidenceCache = new Map<string, { evidence: Evidence[]; classification: Classification; reason: string }>();

  // ---- ENV gates -------------------------------------------------------------------------------

  private gates(): { reports: EnvGateReport[]; index: GateIndex } {
    interface Read {
      name: string;
      file: AnalyzedFile;
      fn: FnRef | null;
      line: number;
      column: number;
      value: GetenvFact['value'];
      cachedIn: string | null;
    }
    const reads: Read[] = [];
    const assignsByCallee = new Map<string, string[]>();
    for (const s of this.states.values()) {
      const f = s.file;
      if (!f.facts) continue;
      for (const ga of f.facts.globalAssigns) pushTo(assignsByCallee, ga.callee, ga.global);
      for (const g of f.facts.getenvs) {
        if (g.name) reads.push({ name: g.name, file: f, fn: this.fnAt(f, g.fn), line: g.line, column: g.column, value: g.value, cachedIn: g.cachedIn });
      }
      // getenv wrappers: `env_flag("X", 1)`; the default may be one of the call's arguments.
      for (const call of f.facts.calls) {
        if (!Object.keys(call.strings).length) continue;
        const w = this.resolveFn(call.callee, f);
        if (!w || w.fact.getenvParam === null) continue;
        const name = call.strings[w.fact.getenvParam];
        if (!name) continue;
        const wg = w.file.facts!.getenvs.find((g) => g.fn === w.index);
        let value: GetenvFact['value'] = wg?.value ?? { kind: 'unknown' };
        if (value.kind === 'param') {
          const arg = call.numbers[value.index];
          value = arg !== undefined && Number.isFinite(Number(arg)) ? { kind: 'number', value: Number(arg), boolean: value.boolean } : { kind: 'unknown' };
        }
        reads.push({ name, file: f, fn: this.fnAt(f, call.fn), line: call.line, column: call.column, value, cachedIn: null });
      }
    }
    const getters = new Map<string, string[]>();
    for (const [fname, refs] of this.fns) for (const ref of refs) for (const g of ref.fact.returnsGlobals) pushTo(getters, g, fname);
    const presetsByVariable = new Map<string, ReturnType<AnalysisModel['presets']>>();
    for (const p of this.presets()) {
      const list = presetsByVariable.get(p.variable);
      if (list) list.push(p);
      else presetsByVariable.set(p.variable, [p]);
    }
    const byName = new Map<string, Read[]>();
    for (const r of reads) pushTo(byName, r.name, r);
    const reports: EnvGateReport[] = [];
    const predicates = new Map<string, Set<string>>();
    for (const [name, rs] of byName) {
      const primary = rs.find((r) => r.value.kind === 'number') ?? rs[0];
      const preds = new Set<string>([`getenv:${name}`]);
      let cachedIn = primary.cachedIn;
      for (const r of rs) {
        if (r.cachedIn) preds.add(r.cachedIn);
        if (!r.fn) continue;
        preds.add(r.fn.fact.name);
        // `g_x = parse_x();` caches the parsed value in a global.
        for (const global of assignsByCallee.get(r.fn.fact.name) ?? []) {
          cachedIn ??= global;
          preds.add(global);
        }
      }
      // Getters: `static inline int x_enabled(void) { return g_x; }`.
      for (const p of [...preds]) for (const g of getters.get(p) ?? []) preds.add(g);
      predicates.set(name, preds);
      const { kind, value } = gateDefault(primary.value);
      const own = presetsByVariable.get(name) ?? [];
      const profiles: Record<string, string> = {};
      for (const p of own) profiles[p.profile] = p.value;
      reports.push({
        name,
        file: primary.file.file,
        line: primary.line,
        column: primary.column,
        function: primary.fn?.fact.name ?? null,
        default: kind,
        defaultValue: value,
        cached: !!cachedIn,
        cachedIn,
        profiles,
        gatedFunctions: [],
        gatedAtomics: [],
        ...{ presets: own.map((p) => ({ selector: p.selector, profile: p.profile, value: p.value, file: p.file, line: p.line })) },
        ...{ reads: rs.map((r) => ({ file: r.file.file, line: r.line, function: r.fn?.fact.name ?? null })) },
      } as EnvGateReport);
    }
    reports.sort((a, b) => a.name.localeCompare(b.name));
    const index = new GateIndex(this.allFunctions(), (name) => this.callsTo.get(name) ?? [], predicates);
    for (const g of reports) g.gatedFunctions = index.gatedFunctions(g.name);
    return { reports, index };
  }

  /** `set_if_unset("VAR", "VAL")` under `if (strcmp(profile, "NAME") == 0)`. */
  private presets(): { selector: string | null; profile: string; variable: string; value: string; file: string; line: number }[] {
    const out: { selector: string | null; profile: string; variable: string; value: string; file: string; line: number }[] = [];
    for (const s of this.states.values()) {
      const f = s.file;
      if (!f.facts) continue;
      for (const call of f.facts.calls) {
        if (!call.profile) continue;
        let slots: { nameParam: number; valueParam: number } | null = null;
        if (call.callee === 'setenv' && call.numbers[2] === '0') slots = { nameParam: 0, valueParam: 1 };
        else slots = this.resolveFn(call.callee, f)?.fact.setIfUnset ?? null;
        if (!slots) continue;
        const variable = call.strings[slots.nameParam];
        const value = call.strings[slots.valueParam] ?? call.numbers[slots.valueParam];
        if (!variable || value === undefined) continue;
        out.push({ selector: this.selectorEnv(f, call), profile: call.profile.name, variable, value, file: f.file, line: call.line });
      }
    }
    return out;
  }

  /** Which ENV variable picks the profile: `strcmp(profile, ...)` where profile = getenv("X"). */
  private selectorEnv(f: AnalyzedFile, call: CallFact): string | null {
    const sel = call.profile!.selector;
    const fn = this.fnAt(f, call.fn);
    if (!fn) return null;
    const storedIn = (g: GetenvFact, name: string) => g.result.via === name || (g.result.kind === 'local' && g.result.name === name);
    const local = f.facts!.getenvs.find((g) => g.fn === fn.index && storedIn(g, sel));
    if (local?.name) return local.name;
    const param = fn.fact.params.findIndex((p) => p.name === sel);
    if (param < 0) return null;
    for (const c of this.callsTo.get(fn.fact.name) ?? []) {
      const arg = c.call.args.find((a) => a.index === param);
      if (!arg || !c.caller) continue;
      const g = c.file.facts!.getenvs.find((x) => x.fn === c.caller!.index && storedIn(x, arg.key.root));
      if (g?.name) return g.name;
    }
    return null;
  }

  // ---- flags -----------------------------------------------------------------------------------

  private flagsCache: { key: string; value: { flags: FlagReport[]; regions: InactiveRegion[]; undefaulted: Finding[] } } | null = null;

  /** Flags and dimmed regions: recomputed only when some file's directives or the macro values change. */
  private flags(env: MacroEnv, envSig: string): { flags: FlagReport[]; regions: InactiveRegion[]; undefaulted: Finding[] } {
    const key = `${envSig}\0${this.ppVersion}`;
    if (this.flagsCache?.key === key) return this.flagsCache.value;
    const value = this.computeFlags(env);
    this.flagsCache = { key, value };
    return value;
  }

  private computeFlags(env: MacroEnv): { flags: FlagReport[]; regions: InactiveRegion[]; undefaulted: Finding[] } {
    const files = [...this.states.values()].map((s) => s.file);
    const defaults = new Map<string, { file: string; line: number; value: string }>();
    const defined = new Set<string>();
    const uses = new Map<string, SourceRef[]>();
    for (const f of files) {
      for (const d of f.pp.defaults) if (!defaults.has(d.name)) defaults.set(d.name, { file: f.file, line: d.line, value: d.value });
      for (const d of f.pp.defines) if (d.name) defined.add(d.name);
      for (const u of f.pp.uses) {
        const list = uses.get(u.name) ?? [];
        list.push({ file: f.file, line: u.line, column: u.column });
        uses.set(u.name, list);
      }
    }
    const flags: FlagReport[] = [];
    for (const [name, d] of defaults) {
      const v = env.lookup(name);
      let enabled: boolean | null = null;
      if (v && v.defined) {
        const n = Number(v.value.trim());
        enabled = Number.isFinite(n) ? n !== 0 : null;
      }
      const siteUses = (uses.get(name) ?? []).filter((u) => !(u.file === d.file && Math.abs(u.line - d.line) <= 1));
      flags.push({ name, file: d.file, line: d.line, default: d.value, uses: siteUses, enabled });
    }
    flags.sort((a, b) => a.name.localeCompare(b.name));
    const undefaulted: Finding[] = [];
    for (const [name, list] of uses) {
      if (defaults.has(name) || defined.has(name) || env.lookup(name) === undefined) continue;
      if (name in this.options.defines) continue;
      const first = list[0];
      undefaulted.push({ rule: 'undefaulted-flag', file: first.file, line: first.line, severity: 'note', message: `${name} is tested by #if/#ifdef (${list.length} use${list.length > 1 ? 's' : ''}) but never defined or defaulted in the workspace; the default build treats it as undefined` });
    }
    const regions: InactiveRegion[] = [];
    for (const f of files) for (const r of inactiveRegions(f.pp, env)) regions.push({ file: f.file, ...r });
    for (const fl of flags) {
      if (!fl.uses.length) undefaulted.push({ rule: 'unused-flag', file: fl.file, line: fl.line, severity: 'note', message: `${fl.name} is defaulted to ${fl.default} but no #if/#ifdef uses it` });
    }
    return { flags, regions, undefaulted };
  }

  // ---- findings --------------------------------------------------------------------------------

  private fileFindings(s: FileState, atomics: AtomicReport[], env: MacroEnv, gateByName: Map<string, EnvGateReport>): Finding[] {
    const out: Finding[] = [];
    for (const a of atomics) {
      if (a.classification !== 'telemetry' || a.guard) continue;
      if (activeAt(s.file.pp, a.line, env) === false) continue;
      const offGates = a.gates.filter((g) => gateByName.get(g)?.default === 'off');
      if (offGates.length) {
        out.push({ rule: 'gate-off-by-default', file: a.file, line: a.line, column: a.column, severity: 'note', message: `telemetry ${a.target} is behind ${offGates.join(', ')}, which is OFF when unset: this path does not run in the default configuration, so compiling it out will not change the default benchmark` });
        continue;
      }
      if (a.temperature === 'hot' || a.temperature === 'warm') {
        out.push({ rule: 'telemetry-not-compiled-out', file: a.file, line: a.line, column: a.column, severity: 'warning', message: `telemetry atomic ${a.target} (${a.op}) runs on a ${a.temperature} path and is not compiled out: ${a.reason}` });
      }
    }
    // Release hygiene: diagnostic calls on hot/warm paths outside any #if.
    for (const call of s.file.facts?.calls ?? []) {
      if (!DIAGNOSTIC_NAME.test(call.callee)) continue;
      const fn = this.fnAt(s.file, call.fn);
      if (!fn || DIAGNOSTIC_NAME.test(fn.fact.name)) continue;
      const t = this.siteTemperature(this.fnTemperature(fn).temp, call.ctx, '');
      if (t.temp !== 'hot' && t.temp !== 'warm') continue;
      if (guardAt(s.file.pp, call.line) || activeAt(s.file.pp, call.line, env) === false) continue;
      out.push({ rule: 'release-hygiene', file: s.file.file, line: call.line, column: call.column, severity: 'warning', message: `${call.callee}() runs on a ${t.temp} path in ${fn.fact.name} and is not under a release or compile-out guard (e.g. #if !..._BUILD_RELEASE)` });
    }
    return out;
  }

  /** Brings the shared tables, temperatures, gates and macro environment up to date. */
  private refresh(): { states: FileState[]; env: MacroEnv; envSig: string; gates: { reports: EnvGateReport[]; index: GateIndex }; gateByName: Map<string, EnvGateReport> } {
    if (this.declsDirty) this.rebuild();
    if (this.graphDirty) {
      this.computeTemperatures();
      this.gateState = this.gates();
      this.gateByName = new Map(this.gateState.reports.map((g) => [g.name, g]));
      for (const s of this.states.values()) s.cached = null;
      this.graphDirty = false;
    }
    const states = (this.sortedStates ??= [...this.states.values()].sort((a, b) => (a.file.file < b.file.file ? -1 : a.file.file > b.file.file ? 1 : 0)));
    if (this.envCache?.version !== this.ppVersion) {
      const built = buildMacroEnv(
        states.map((s) => s.file.pp),
        this.options.defines,
      );
      this.envCache = { version: this.ppVersion, env: built, sig: JSON.stringify([...built.values]) };
    }
    const { env, sig: envSig } = this.envCache;
    // Guards and dimming depend on the macro environment, which any header can change.
    if (envSig !== this.envSig) {
      for (const s of states) s.cached = null;
      this.envSig = envSig;
    }
    return { states, env, envSig, gates: this.gateState!, gateByName: this.gateByName };
  }

  private gateByName = new Map<string, EnvGateReport>();

  /**
   * The atomics and findings of one file, up to date: what the editor shows for the document
   * being edited. Other files are redone only when the full report is asked for.
   */
  fileResult(name: string): { atomics: AtomicReport[]; findings: Finding[] } | null {
    const { env, gates, gateByName } = this.refresh();
    const s = this.states.get(name);
    if (!s) return null;
    s.cached ??= this.fileAtomics(s, env, gates.index, gateByName);
    return s.cached;
  }

  report(root: string): AuditReport {
    const { states, env, envSig, gates, gateByName } = this.refresh();
    const atomics: AtomicReport[] = [];
    const findings: Finding[] = [];
    for (const s of states) {
      s.cached ??= this.fileAtomics(s, env, gates.index, gateByName);
      atomics.push(...s.cached.atomics);
      findings.push(...s.cached.findings);
    }
    const byGate = new Map<string, SourceRef[]>();
    for (const a of atomics) for (const g of a.gates) pushTo(byGate, g, { file: a.file, line: a.line, column: a.column });
    const gateReports = gates.reports.map((g) => ({ ...g, gatedAtomics: byGate.get(g.name) ?? [] }));
    const { flags, regions, undefaulted } = this.flags(env, envSig);
    if (undefaulted.length) {
      findings.push(...undefaulted);
      findings.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
    }
    const skipped = states
      .filter((s) => s.file.facts && s.file.facts.errorLines.length)
      .map((s) => ({ file: s.file.file, reason: `parsed with errors at line ${s.file.facts!.errorLines.slice(0, 5).join(', ')}${s.file.facts!.errorLines.length > 5 ? ', …' : ''} (broken C, or macros the C grammar cannot see through); the rest of the file was analysed` }));
    return { version: 1, root, files: states.length, atomics, envGates: gateReports, flags, inactiveRegions: regions, findings, skipped };
  }

  allFunctions(): FnRef[] {
    return [...this.fns.values()].flat();
  }
}

/** Which functions and sites each gate controls. */
class GateIndex {
  private readonly gated = new Map<string, Set<string>>();
  private readonly byPredicate = new Map<string, string[]>();
  private readonly byFunction = new Map<string, string[]>();

  constructor(
    fns: FnRef[],
    callersOf: (name: string) => CallRef[],
    predicates: Map<string, Set<string>>,
  ) {
    // A function is gated by G when every call of it sits under G or inside a function gated by G.
    // One pass per round over the call graph with the set of gates per function.
    const names = [...new Set(fns.map((f) => f.fact.name))];
    for (const [gate, preds] of predicates) for (const p of preds) pushTo(this.byPredicate, p, gate);
    const gatesOfSite = (ctx: SiteContext): string[] => {
      const out = new Set<string>();
      for (const n of ctx.conditionNames) for (const g of this.byPredicate.get(n) ?? []) out.add(g);
      return [...out];
    };
    const byFn = new Map<string, Set<string>>();
    for (let round = 0, changed = true; changed && round < 50; round++) {
      changed = false;
      for (const name of names) {
        const calls = callersOf(name);
        if (!calls.length) continue;
        let acc: Set<string> | undefined;
        for (const c of calls) {
          const here = new Set<string>(gatesOfSite(c.call.ctx));
          for (const g of (c.caller && byFn.get(c.caller.fact.name)) ?? []) here.add(g);
          const prevAcc: Set<string> | undefined = acc;
          acc = prevAcc ? new Set<string>([...prevAcc].filter((g) => here.has(g))) : here;
          if (!acc.size) break;
        }
        const prev = byFn.get(name);
        if (acc && acc.size && (!prev || prev.size !== acc.size)) {
          byFn.set(name, acc);
          changed = true;
        }
      }
    }
    for (const [fn, gates] of byFn) {
      this.byFunction.set(fn, [...gates]);
      for (const g of gates) {
        let set = this.gated.get(g);
        if (!set) this.gated.set(g, (set = new Set()));
        set.add(fn);
      }
    }
  }

  gatedFunctions(gate: string): string[] {
    return [...(this.gated.get(gate) ?? [])].sort();
  }

  gatesOf(fn: { fact: FunctionFact } | null, ctx: SiteContext): string[] {
    const out = new Set<string>(fn ? (this.byFunction.get(fn.fact.name) ?? []) : []);
    for (const n of ctx.conditionNames) for (const g of this.byPredicate.get(n) ?? []) out.add(g);
    return [...out].sort();
  }
}

/** Appends to the list under `key` (the lists are built once, so appending in place is safe). */
function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function gateDefault(v: GetenvFact['value']): { kind: GateDefault; value: string | null } {
  if (v.kind !== 'number') return { kind: 'unknown', value: null };
  if (v.boolean && (v.value === 0 || v.value === 1)) return { kind: v.value ? 'on' : 'off', value: String(v.value) };
  return { kind: 'value', value: String(v.value) };
}

function ppSignature(pp: PpFacts): string {
  return JSON.stringify([pp.directives.map((d) => [d.kind, d.line, d.endLine, d.text]), pp.uses.map((u) => [u.name, u.line, u.column])]);
}

/** Everything about a file that other files' results depend on through the declaration tables. */
function declSignature(facts: FileFacts | null): string {
  if (!facts) return '';
  return JSON.stringify([
    facts.functions.map((f) => [f.name, f.isStatic, f.isConstructor, f.atomicParam, f.getenvParam, f.setIfUnset, f.returnsGlobals, f.params]),
    facts.macros.map((m) => [m.name, m.atomicParam, m.prints]),
    facts.typedefs,
    facts.globalTypes,
    facts.atomicDecls,
  ]);
}

/** The call graph and gate inputs of a file, without positions. */
function graphSignature(facts: FileFacts | null): string {
  if (!facts) return '';
  return JSON.stringify([
    facts.calls.map((c) => [c.callee, c.fn, c.ctx, c.profile, c.strings, c.numbers, c.result.kind, c.result.via ?? '', c.args.map((a) => [a.index, a.key.root])]),
    facts.getenvs.map((g) => [g.name, g.fn, g.value, g.cachedIn, g.result.via ?? '', g.result.kind]),
    facts.globalAssigns.map((g) => [g.global, g.callee, g.fn]),
  ]);
}

const CORRECTNESS = new Set(['condition', 'cas', 'exchange', 'index', 'return']);
const UNKNOWN = new Set(['call', 'assign', 'arith', 'address', 'unknown']);

export function classify(evidence: Evidence[]): { classification: Classification; reason: string } {
  const where = (e: Evidence) => `${e.file}:${e.line}${e.function ? ` in ${e.function}` : ''}`;
  const strong = evidence.find((e) => CORRECTNESS.has(e.kind));
  if (strong) {
    const what: Record<string, string> = { condition: 'read in a condition', cas: 'takes part in a CAS', exchange: 'takes part in an exchange', index: 'used as an index', return: 'returned to a caller' };
    return { classification: 'correctness', reason: `${what[strong.kind]} at ${where(strong)}: the program depends on its value` };
  }
  const unclear = evidence.find((e) => UNKNOWN.has(e.kind));
  if (unclear) return { classification: 'unknown', reason: `its value reaches ${unclear.kind === 'call' ? `a call (${unclear.text})` : `an expression (${unclear.kind})`} at ${where(unclear)} that the analysis cannot follow` };
  const counted = evidence.filter((e) => e.kind !== 'test');
  if (!counted.length) return { classification: 'telemetry', reason: evidence.length ? 'read only by tests and benchmarks' : 'never read anywhere in the workspace' };
  const fns = [...new Set(counted.map((e) => e.function).filter(Boolean))];
  return { classification: 'telemetry', reason: `only printed or dumped (${counted.length} read${counted.length > 1 ? 's' : ''}${fns.length ? ` in ${fns.join(', ')}` : ''})` };
}
