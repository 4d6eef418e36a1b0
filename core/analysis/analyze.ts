// The workspace half of the analysis: joins every file's facts into the audit report. Pure data in,
// pure data out, no parsing; cheap enough to rerun on every (debounced) edit.
import type { AccessKey, AtomicFact, CallFact, FileFacts, FunctionFact, GetenvFact, SiteContext, Use } from './facts';
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

const RANK: Record<Temperature, number> = { hot: 3, warm: 2, cold: 1, unknown: 0 };

export function analyze(root: string, files: readonly AnalyzedFile[], options: AnalysisOptions): AuditReport {
  return new Analysis(root, files, options).report();
}

class Analysis {
  private readonly fns = new Map<string, FnRef[]>();
  private readonly typedefs = new Map<string, string>();
  private readonly globalTypes = new Map<string, string>();
  private readonly atomicDecls = new Set<string>();
  private readonly atomicFieldNames = new Set<string>();
  private readonly callsTo = new Map<string, { file: AnalyzedFile; call: CallFact; caller: FnRef | null }[]>();
  private readonly macroAtomic = new Map<string, { param: number; op: AtomicOp; callee: string }>();
  private readonly printMacros = new Set<string>();
  private readonly temps = new Map<string, { temp: Temperature; reason: string }>();
  private readonly env: MacroEnv;
  private readonly ignoredReads: RegExp[];

  constructor(
    private readonly root: string,
    private readonly files: readonly AnalyzedFile[],
    private readonly options: AnalysisOptions,
  ) {
    for (const f of files) {
      const facts = f.facts;
      if (!facts) continue;
      for (const [k, v] of Object.entries(facts.typedefs)) this.typedefs.set(k, v);
      for (const [k, v] of Object.entries(facts.globalTypes)) this.globalTypes.set(k, v);
      for (const d of facts.atomicDecls) {
        this.atomicDecls.add(d);
        const dot = d.lastIndexOf('.');
        if (dot >= 0) this.atomicFieldNames.add(d.slice(dot + 1));
      }
      facts.functions.forEach((fact, index) => {
        const ref: FnRef = { file: f, fact, index, id: `${f.file}#${fact.name}` };
        const list = this.fns.get(fact.name) ?? [];
        list.push(ref);
        this.fns.set(fact.name, list);
      });
      for (const m of facts.macros) {
        if (m.atomicParam) this.macroAtomic.set(m.name, m.atomicParam);
        if (m.prints) this.printMacros.add(m.name);
      }
    }
    for (const f of files) {
      if (!f.facts) continue;
      for (const call of f.facts.calls) {
        const list = this.callsTo.get(call.callee) ?? [];
        list.push({ file: f, call, caller: this.fnAt(f, call.fn) });
        this.callsTo.set(call.callee, list);
      }
    }
    this.env = buildMacroEnv(
      files.map((f) => f.pp),
      options.defines,
    );
    this.ignoredReads = options.ignoreReadsIn.map(globToRegExp);
    this.computeTemperatures();
  }

  // ---- names and keys ------------------------------------------------------------------------

  private fnAt(file: AnalyzedFile, index: number): FnRef | null {
    if (index < 0 || !file.facts) return null;
    const fact = file.facts.functions[index];
    return this.resolveFn(fact.name, file) ?? null;
  }

  /** The definition a call of `name` from `file` reaches: the same file's (static) one first. */
  private resolveFn(name: string, file?: AnalyzedFile): FnRef | undefined {
    const list = this.fns.get(name);
    if (!list) return undefined;
    return (file && list.find((r) => r.file === file)) ?? list.find((r) => !r.fact.isStatic) ?? list[0];
  }

  private canonType(t: string): string {
    let name = t.replace(/\b(const|volatile|struct|union|_Atomic|restrict)\b/g, '').replace(/[*\s]/g, '');
    for (let i = 0; i < 8 && this.typedefs.has(name) && this.typedefs.get(name) !== name; i++) name = this.typedefs.get(name)!;
    return name;
  }

  /** The names an access can be matched by: `g.f` and, for a typed root, `Type.f`. */
  private matchKeys(key: AccessKey): string[] {
    const path = key.path.join('.');
    if (key.rootKind === 'type') return [`${this.canonType(key.root)}.${path}`];
    const keys = [path ? `${key.root}.${path}` : key.root];
    const t = this.globalTypes.get(key.root);
    if (t && path) keys.push(`${this.canonType(t)}.${path}`);
    return keys;
  }

  private familyOf(key: AccessKey): { id: string; base: string; field: string | null } {
    const field = key.path.length ? key.path.join('.') : null;
    const base = key.rootKind === 'type' ? this.canonType(key.root) : key.root;
    return { id: field ? `${base}.${field}` : base, base, field };
  }

  /** Is this object declared _Atomic (so `x++` on it is an atomic read-modify-write)? */
  private isAtomicObject(key: AccessKey): boolean {
    if (key.rootKind === 'local') return false;
    if (!key.path.length) return this.atomicDecls.has(key.root);
    const last = key.path[key.path.length - 1];
    if (!this.atomicFieldNames.has(last)) return false;
    if (key.path.length === 1) {
      const owner = key.rootKind === 'type' ? this.canonType(key.root) : this.canonType(this.globalTypes.get(key.root) ?? '');
      if (owner) return this.atomicDecls.has(`${owner}.${last}`) || [...this.typedefs].some(([a, b]) => b === owner && this.atomicDecls.has(`${a}.${last}`));
    }
    return true;
  }

  // ---- temperature ---------------------------------------------------------------------------

  private computeTemperatures(): void {
    const exact = new Set(this.options.entryPoints.filter((e) => !e.includes('*') && !e.includes('?')));
    const globs = this.options.entryPoints.filter((e) => e.includes('*') || e.includes('?')).map(globToRegExp);
    const queue: FnRef[] = [];
    for (const [name, refs] of this.fns) {
      const isEntry = exact.has(name) || (globs.some((g) => g.test(name)) && !this.callsTo.has(name));
      if (!isEntry) continue;
      for (const r of refs) {
        this.temps.set(r.id, { temp: 'hot', reason: exact.has(name) ? `${name} is an entry point` : `${name} is an API entry point (matches ${this.options.entryPoints.find((e) => globToRegExp(e).test(name))}, nothing calls it)` });
        queue.push(r);
      }
    }
    // Hottest-first propagation: a function's temperature only ever rises, so this terminates.
    for (let guard = 0; queue.length && guard < 100_000; guard++) {
      const caller = queue.shift()!;
      const callerTemp = this.temps.get(caller.id)!.temp;
      for (const call of caller.file.facts!.calls) {
        if (call.fn !== caller.index) continue;
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
        else if (COLD_NAME.test(r.fact.name)) this.temps.set(r.id, { temp: 'cold', reason: `not reached from an entry point; the name says init/dump/error code` });
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

  private collectSites(): Site[] {
    const sites: Site[] = [];
    for (const f of this.files) {
      if (!f.facts) continue;
      for (const a of f.facts.atomics) {
        if (!a.key) continue;
        if (a.viaOperator && !this.isAtomicObject(a.key)) continue;
        sites.push(this.site(f, a));
      }
      // Calls of atomic wrapper macros and functions: the wrapped operation applies to an argument.
      for (const call of f.facts.calls) {
        const wrapped = this.macroAtomic.get(call.callee) ?? this.resolveFn(call.callee, f)?.fact.atomicParam ?? null;
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

  private wrapperParam(callee: string, file: AnalyzedFile): number | undefined {
    return (this.macroAtomic.get(callee) ?? this.resolveFn(callee, file)?.fact.atomicParam ?? undefined)?.param;
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

  private evidence(use: Use, file: AnalyzedFile, fn: FnRef | null): Evidence[] {
    if (use.kind === 'discard' || use.kind === 'local') return [];
    if (use.kind === 'return') {
      const followed = this.followReturn(use, fn, 0);
      if (followed.length) return followed.flatMap((x) => this.evidence(x.use, x.file, x.fn)).map((e) => ({ ...e, text: `${fn?.fact.name}() → ${e.text ?? ''}` }));
    }
    let kind = use.kind as Evidence['kind'];
    if (this.ignoredReads.some((re) => re.test(file.file)) && kind !== 'print' && kind !== 'print-guard') kind = 'test';
    else if (use.kind === 'call' && use.name && (this.printMacros.has(use.name) || this.options.printFunctions.includes(use.name) || DIAGNOSTIC_NAME.test(use.name) && /print|dump|trace/i.test(use.name))) kind = 'print';
    return [{ file: file.file, line: use.line, column: use.column, kind, function: fn?.fact.name ?? null, text: use.text.length > 160 ? `${use.text.slice(0, 157)}...` : use.text }];
  }

  private atomics(sites: Site[], gates: GateIndex): AtomicReport[] {
    // Every read of every object, by match key.
    const readsByKey = new Map<string, Evidence[]>();
    const addRead = (keys: string[], ev: Evidence[]) => {
      for (const k of keys) {
        const list = readsByKey.get(k) ?? [];
        list.push(...ev);
        readsByKey.set(k, list);
      }
    };
    for (const f of this.files) {
      if (!f.facts) continue;
      for (const r of f.facts.reads) {
        // The object handed to an atomic wrapper (`STAT_INC(g.x)`) is its target, not a read;
        // what the wrapper returns is followed from its call instead.
        if (r.use.kind === 'call' && r.use.name && this.wrapperParam(r.use.name, f) === r.use.argIndex) continue;
        addRead(this.matchKeys(r.key), this.evidence(r.use, f, this.fnAt(f, r.fn)));
      }
      // An object's address handed to a function that is not an atomic wrapper: unknown use.
      for (const call of f.facts.calls) {
        const wrapped = this.macroAtomic.get(call.callee) ?? this.resolveFn(call.callee, f)?.fact.atomicParam ?? null;
        for (const arg of call.args) {
          if (wrapped && arg.index === wrapped.param) continue;
          if (arg.key.rootKind === 'local') continue;
          const ignored = this.ignoredReads.some((re) => re.test(f.file));
          const kind = this.printMacros.has(call.callee) || this.options.printFunctions.includes(call.callee) || /printf|puts|write/.test(call.callee) ? 'print' : ignored ? 'test' : 'call';
          addRead(this.matchKeys(arg.key), [{ file: f.file, line: call.line, column: call.column, kind, function: this.fnAt(f, call.fn)?.fact.name ?? null, text: `${call.callee}(…${arg.key.text}…)` }]);
        }
      }
    }
    for (const s of sites) {
      // The value an atomic operation returns is a read too (loads, and `if (fetch_sub(..) == 1)`).
      const ev = this.evidence(s.result, s.file, s.fn);
      if (s.op === 'cas' || s.op === 'exchange') ev.push({ file: s.file.file, line: s.line, column: s.column, kind: s.op, function: s.fn?.fact.name ?? null, text: s.callee });
      addRead(this.matchKeys(s.key), ev);
    }

    const out: AtomicReport[] = [];
    for (const s of sites) {
      if (s.op === 'load') continue; // loads are evidence, not write sites
      const keys = this.matchKeys(s.key);
      const seen = new Set<string>();
      const evidence: Evidence[] = [];
      for (const k of keys) {
        for (const e of readsByKey.get(k) ?? []) {
          const id = `${e.file}:${e.line}:${e.column}:${e.kind}`;
          if (seen.has(id)) continue;
          seen.add(id);
          evidence.push(e);
        }
      }
      evidence.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
      const { classification, reason } = classify(evidence);
      const fnTemp = this.fnTemperature(s.fn);
      const siteTemp = this.siteTemperature(fnTemp.temp, s.ctx, '');
      const temperature = siteTemp.temp;
      const temperatureReason = siteTemp.why && siteTemp.temp !== fnTemp.temp ? `${siteTemp.why}; ${s.fn?.fact.name} is ${fnTemp.temp}: ${fnTemp.reason}` : fnTemp.reason;
      const guard = guardAt(s.file.pp, s.line);
      const family = this.familyOf(s.key);
      out.push({
        file: s.file.file,
        line: s.line,
        column: s.column,
        endLine: s.endLine,
        endColumn: s.endColumn,
        function: s.fn?.fact.name ?? null,
        op: s.op,
        callee: s.callee,
        order: s.order,
        target: s.key.text,
        base: family.base,
        field: family.field,
        family: family.base,
        classification,
        reason,
        evidence,
        temperature,
        temperatureReason,
        guard: guard?.macro ?? null,
        gates: gates.gatesOf(s.fn, s.ctx),
      });
    }
    out.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
    return out;
  }

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
      args?: CallFact;
    }
    const reads: Read[] = [];
    for (const f of this.files) {
      if (!f.facts) continue;
      for (const g of f.facts.getenvs) {
        if (g.name) reads.push({ name: g.name, file: f, fn: this.fnAt(f, g.fn), line: g.line, column: g.column, value: g.value, cachedIn: g.cachedIn });
      }
      // getenv wrappers: `env_flag("X", 1)`; the default may be one of the call's arguments.
      for (const call of f.facts.calls) {
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
        const caller = this.fnAt(f, call.fn);
        reads.push({ name, file: f, fn: caller, line: call.line, column: call.column, value, cachedIn: null, args: call });
      }
    }
    const presets = this.presets();
    const byName = new Map<string, Read[]>();
    for (const r of reads) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
    const reports: EnvGateReport[] = [];
    const predicates = new Map<string, Set<string>>();
    for (const [name, rs] of byName) {
      const primary = rs.find((r) => r.value.kind === 'number') ?? rs[0];
      const preds = new Set<string>([`getenv:${name}`]);
      let cachedIn = primary.cachedIn;
      for (const r of rs) {
        if (!r.fn) continue;
        preds.add(r.fn.fact.name);
        // `g_x = parse_x();` caches the parsed value in a global.
        for (const f of this.files) {
          for (const ga of f.facts?.globalAssigns ?? []) {
            if (ga.callee === r.fn.fact.name) {
              cachedIn ??= ga.global;
              preds.add(ga.global);
            }
          }
        }
        if (r.cachedIn) preds.add(r.cachedIn);
      }
      // Getters: `static inline int x_enabled(void) { return g_x; }`.
      for (const [fname, refs] of this.fns) if (refs.some((ref) => ref.fact.returnsGlobals.some((g) => preds.has(g)))) preds.add(fname);
      predicates.set(name, preds);
      const { kind, value } = gateDefault(primary.value);
      const profiles: Record<string, string> = {};
      for (const p of presets.filter((x) => x.variable === name)) profiles[p.profile] = p.value;
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
        ...{ presets: presets.filter((x) => x.variable === name).map((p) => ({ selector: p.selector, profile: p.profile, value: p.value, file: p.file, line: p.line })) },
        ...{ reads: rs.map((r) => ({ file: r.file.file, line: r.line, function: r.fn?.fact.name ?? null })) },
      } as EnvGateReport);
    }
    reports.sort((a, b) => a.name.localeCompare(b.name));
    const index = new GateIndex(this, predicates);
    for (const g of reports) g.gatedFunctions = index.gatedFunctions(g.name);
    return { reports, index };
  }

  /** `set_if_unset("VAR", "VAL")` under `if (strcmp(profile, "NAME") == 0)`. */
  private presets(): { selector: string | null; profile: string; variable: string; value: string; file: string; line: number }[] {
    const out: { selector: string | null; profile: string; variable: string; value: string; file: string; line: number }[] = [];
    for (const f of this.files) {
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

  private flags(): { flags: FlagReport[]; regions: InactiveRegion[]; undefaulted: Finding[] } {
    const defaults = new Map<string, { file: string; line: number; value: string }>();
    const defined = new Set<string>();
    for (const f of this.files) {
      for (const d of f.pp.defaults) if (!defaults.has(d.name)) defaults.set(d.name, { file: f.file, line: d.line, value: d.value });
      for (const d of f.pp.defines) if (d.name) defined.add(d.name);
    }
    const uses = new Map<string, SourceRef[]>();
    for (const f of this.files) {
      for (const u of f.pp.uses) {
        const list = uses.get(u.name) ?? [];
        list.push({ file: f.file, line: u.line, column: u.column });
        uses.set(u.name, list);
      }
    }
    const flags: FlagReport[] = [];
    for (const [name, d] of defaults) {
      const v = this.env.lookup(name);
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
      if (defaults.has(name) || defined.has(name) || this.env.lookup(name) === undefined) continue;
      if (name in this.options.defines) continue;
      const first = list[0];
      undefaulted.push({ rule: 'undefaulted-flag', file: first.file, line: first.line, severity: 'note', message: `${name} is tested by #if/#ifdef (${list.length} use${list.length > 1 ? 's' : ''}) but never defined or defaulted in the workspace; the default build treats it as undefined` });
    }
    const regions: InactiveRegion[] = [];
    for (const f of this.files) for (const r of inactiveRegions(f.pp, this.env)) regions.push({ file: f.file, ...r });
    return { flags, regions, undefaulted };
  }

  // ---- findings --------------------------------------------------------------------------------

  private findings(atomics: AtomicReport[], gates: EnvGateReport[], flags: FlagReport[]): Finding[] {
    const out: Finding[] = [];
    const gateByName = new Map(gates.map((g) => [g.name, g]));
    for (const a of atomics) {
      if (a.classification !== 'telemetry' || a.guard) continue;
      const file = this.files.find((f) => f.file === a.file);
      if (file && activeAt(file.pp, a.line, this.env) === false) continue;
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
    for (const f of this.files) {
      if (!f.facts) continue;
      for (const call of f.facts.calls) {
        if (!DIAGNOSTIC_NAME.test(call.callee)) continue;
        const fn = this.fnAt(f, call.fn);
        if (!fn || DIAGNOSTIC_NAME.test(fn.fact.name)) continue;
        const t = this.siteTemperature(this.fnTemperature(fn).temp, call.ctx, '');
        if (t.temp !== 'hot' && t.temp !== 'warm') continue;
        if (guardAt(f.pp, call.line) || activeAt(f.pp, call.line, this.env) === false) continue;
        out.push({ rule: 'release-hygiene', file: f.file, line: call.line, column: call.column, severity: 'warning', message: `${call.callee}() runs on a ${t.temp} path in ${fn.fact.name} and is not under a release or compile-out guard (e.g. #if !..._BUILD_RELEASE)` });
      }
    }
    for (const fl of flags) {
      if (!fl.uses.length) out.push({ rule: 'unused-flag', file: fl.file, line: fl.line, severity: 'note', message: `${fl.name} is defaulted to ${fl.default} but no #if/#ifdef uses it` });
    }
    return out;
  }

  report(): AuditReport {
    const gates = this.gates();
    const atomics = this.atomics(this.collectSites(), gates.index);
    for (const g of gates.reports) {
      g.gatedAtomics = atomics.filter((a) => a.gates.includes(g.name)).map((a) => ({ file: a.file, line: a.line, column: a.column }));
    }
    const { flags, regions, undefaulted } = this.flags();
    const findings = [...this.findings(atomics, gates.reports, flags), ...undefaulted];
    findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
    const skipped = this.files
      .filter((f) => f.facts && f.facts.errorLines.length)
      .map((f) => ({ file: f.file, reason: `parsed with errors at line ${f.facts!.errorLines.slice(0, 5).join(', ')}${f.facts!.errorLines.length > 5 ? ', …' : ''} (macros the C grammar cannot see through); the rest of the file was analysed` }));
    return { version: 1, root: this.root, files: this.files.length, atomics, envGates: gates.reports, flags, inactiveRegions: regions, findings, skipped };
  }

  // Used by GateIndex.
  callersOf(name: string) {
    return this.callsTo.get(name) ?? [];
  }
  allFunctions(): FnRef[] {
    return [...this.fns.values()].flat();
  }
}

/** Which functions and sites each gate controls. */
class GateIndex {
  private readonly gated = new Map<string, Set<string>>();

  constructor(
    private readonly analysis: Analysis,
    private readonly predicates: Map<string, Set<string>>,
  ) {
    for (const [gate, preds] of predicates) this.gated.set(gate, this.computeGated(preds));
  }

  /** Functions every call of which sits under the gate (or inside a gated function). */
  private computeGated(preds: Set<string>): Set<string> {
    const gated = new Set<string>();
    const fns = this.analysis.allFunctions();
    for (let changed = true, rounds = 0; changed && rounds < 50; rounds++) {
      changed = false;
      for (const f of fns) {
        if (gated.has(f.fact.name)) continue;
        const calls = this.analysis.callersOf(f.fact.name);
        if (!calls.length) continue;
        if (calls.every((c) => c.call.ctx.conditionNames.some((n) => preds.has(n)) || (c.caller && gated.has(c.caller.fact.name)))) {
          gated.add(f.fact.name);
          changed = true;
        }
      }
    }
    return gated;
  }

  gatedFunctions(gate: string): string[] {
    return [...(this.gated.get(gate) ?? [])].sort();
  }

  gatesOf(fn: { fact: FunctionFact } | null, ctx: SiteContext): string[] {
    const out: string[] = [];
    for (const [gate, preds] of this.predicates) {
      if ((fn && this.gated.get(gate)?.has(fn.fact.name)) || ctx.conditionNames.some((n) => preds.has(n))) out.push(gate);
    }
    return out.sort();
  }
}

function gateDefault(v: GetenvFact['value']): { kind: GateDefault; value: string | null } {
  if (v.kind !== 'number') return { kind: 'unknown', value: null };
  if (v.boolean && (v.value === 0 || v.value === 1)) return { kind: v.value ? 'on' : 'off', value: String(v.value) };
  return { kind: 'value', value: String(v.value) };
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
  if (!evidence.length) return { classification: 'telemetry', reason: 'never read anywhere in the workspace' };
  const fns = [...new Set(evidence.map((e) => e.function).filter(Boolean))];
  return { classification: 'telemetry', reason: `only printed or dumped (${evidence.length} read${evidence.length > 1 ? 's' : ''}${fns.length ? ` in ${fns.join(', ')}` : ''})` };
}
