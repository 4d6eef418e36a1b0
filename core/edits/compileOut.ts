// The compile-out quick fix (issue #5): every write site of one telemetry counter family, across
// the workspace, wrapped in the seeds' pattern
//
//   #if FLAG
//       <the original statement(s), untouched>
//   #else
//       (void)0;
//   #endif
//
// plus `#ifndef FLAG / # define FLAG 0 / #endif` in the build-flags header and the header's
// #include where an edited file does not reach it yet. Pure: texts and the analysis in, plain
// file edits out (the server makes them one versioned WorkspaceEdit). A site it cannot wrap on
// its own (its value is used, a directive splits it, it does not parse) is reported, never touched.
import * as path from 'node:path';
import type { Node, Tree } from 'web-tree-sitter';
import { tokenizePp, type Conditional, type Directive } from '../analysis/preprocessor';
import type { AtomicReport, AuditReport, Classification, Evidence, Temperature } from '../analysis/report';
import type { CParser } from '../parsing/cParser';
import { nextStatement, onlyUsedByWrapped, ownedEnd, ownsStart, statementAt, writesTo } from './cStatements';
import { detectPrefix, familyStem, proposeFlag, validateFlagName, type MacroSite } from './flagName';
import { FileCache, indentUnit, type EditSource, type FileEdit, type ParsedFile, type TextEdit } from './textEdits';
import { offByDefaultGuard, wrapperAround } from './wrappers';

export interface CompileOutInput {
  parser: CParser;
  source: EditSource;
  /** The analysis of the folder the source reads (paths relative to it). */
  report: AuditReport;
  family: string;
  /** The flag to use; the proposed one when omitted. */
  flag?: string;
  /** `allocLens.compileOut.flagsHeader`: relative to the folder; '' or absent = detect it. */
  flagsHeader?: string;
  /** Test and benchmark code (allocLens.analysis.ignoreReadsIn): never edited. */
  isTestFile?: (file: string) => boolean;
  /** Only describe the family and check the flag name (cheap, for live validation): no edits. */
  validateOnly?: boolean;
}

export interface SiteRef {
  file: string;
  line: number;
  column: number;
}

export interface CompileOutPlan {
  family: string;
  /** The family's: correctness if any site is, else unknown if any is, else telemetry. */
  classification: Classification;
  reason: string;
  /** Every read of the family the classification rests on, deduplicated. */
  evidence: Evidence[];
  /** The hottest site's temperature. */
  temperature: Temperature;
  prefix: string;
  proposedFlag: string;
  flag: string;
  /** Why `flag` cannot be used, or null. */
  invalidFlag: string | null;
  /** Why the fix does not apply at all (correctness, nothing to wrap...), or null. */
  error: string | null;
  edits: FileEdit[];
  /** Sites the edits wrap: statements (one per write site) and #define bodies. */
  wrapped: (SiteRef & { kind: 'statement' | 'macro' })[];
  /** Sites already compiled out (left alone, which makes the fix idempotent). */
  alreadyWrapped: (SiteRef & { flag: string })[];
  /** Sites left as they are, with the reason. */
  skipped: (SiteRef & { reason: string })[];
  header: { file: string; created: boolean; defaultAdded: boolean } | null;
  /** Files that get `#include` of the header. */
  includesAdded: string[];
  /** Things worth knowing that do not stop the fix (tests that read it, ENV gates off by default, locals kept used). */
  notes: string[];
}

const RANK: Record<Temperature, number> = { hot: 3, warm: 2, cold: 1, unknown: 0 };

/** The classification of a whole family: one correctness site makes it correctness. */
export function familyClassification(sites: readonly AtomicReport[]): { classification: Classification; reason: string } {
  const worst = sites.find((s) => s.classification === 'correctness') ?? sites.find((s) => s.classification === 'unknown') ?? sites[0];
  if (!worst) return { classification: 'unknown', reason: 'no write site' };
  return { classification: worst.classification, reason: `${worst.target}: ${worst.reason}` };
}

/** Every macro the folder defines, with where (for name validation). */
export function workspaceMacros(cache: FileCache): Map<string, MacroSite> {
  const out = new Map<string, MacroSite>();
  for (const file of cache.source.files()) {
    const f = cache.get(file);
    if (!f) continue;
    for (const d of f.pp.defines) if (d.name && !out.has(d.name)) out.set(d.name, { file, line: d.line });
  }
  return out;
}

interface Group {
  file: ParsedFile;
  stmts: Node[];
  sites: AtomicReport[];
}

/** Plans the fix. Never throws on odd input: problems become `error`, `skipped` or notes. */
export function planCompileOut(input: CompileOutInput): CompileOutPlan {
  const cache = new FileCache(input.source, input.parser);
  try {
    return plan(input, cache);
  } finally {
    cache.dispose();
  }
}

function plan(input: CompileOutInput, cache: FileCache): CompileOutPlan {
  const { report, family } = input;
  const isTest = input.isTestFile ?? (() => false);
  const sites = dedupeSites(report.atomics.filter((a) => a.family === family));
  const { classification, reason } = familyClassification(sites);
  const evidence = mergeEvidence(sites);
  const temperature = sites.reduce<Temperature>((t, s) => (RANK[s.temperature] > RANK[t] ? s.temperature : t), 'unknown');
  const prefix = detectPrefix(report);
  const out: CompileOutPlan = {
    family,
    classification,
    reason,
    evidence,
    temperature,
    prefix,
    proposedFlag: '',
    flag: '',
    invalidFlag: null,
    error: null,
    edits: [],
    wrapped: [],
    alreadyWrapped: [],
    skipped: [],
    header: null,
    includesAdded: [],
    notes: [],
  };
  const snippet = (t: string) => cache.parseSnippet(t);
  const offByDefault = new Set(report.flags.filter((f) => f.default === '0').map((f) => f.name));

  // Which sites are compiled out already, and behind which flags: a second run reuses its flag.
  const open: AtomicReport[] = [];
  const ownFlags = new Set<string>();
  for (const s of sites) {
    const f = cache.get(s.file);
    if (!f) {
      out.skipped.push({ ...ref(s), reason: 'the file cannot be read' });
      continue;
    }
    const w = wrapperAround(f, s.line, snippet);
    const flag = w?.flag ?? offByDefaultGuard(f, s.line, offByDefault);
    if (flag) {
      out.alreadyWrapped.push({ ...ref(s), flag });
      ownFlags.add(flag);
    } else if (isTest(s.file)) out.skipped.push({ ...ref(s), reason: 'it is in test or benchmark code (allocLens.analysis.ignoreReadsIn)' });
    else open.push(s);
  }
  const macros = workspaceMacros(cache);
  // The flag the rule proposes is the family's own when it only exists as an unused default
  // (its wrappers were removed, the default kept).
  const ruleName = `${prefix}${familyStem(family, prefix)}_COMPILED`;
  if (report.flags.some((f) => f.name === ruleName && f.uses.length === 0)) ownFlags.add(ruleName);
  // A flag wrapping only part of the family under another name (a lock counter of a stats
  // struct) is not proposed for the rest, but accepted when typed.
  out.proposedFlag = proposeFlag(family, prefix, (n) => macros.has(n) && !ownFlags.has(n));
  out.flag = input.flag ?? out.proposedFlag;
  out.invalidFlag = validateFlagName(out.flag, macros, ownFlags);

  if (!sites.length) out.error = `no write site of \`${family}\` in the analysis`;
  else if (classification === 'correctness') out.error = `\`${family}\` is correctness: ${reason}. The program depends on its value; it must not be compiled out.`;
  else if (sites.every((s) => isTest(s.file))) out.error = `\`${family}\` is only written in test or benchmark code (allocLens.analysis.ignoreReadsIn): those counters are the tests' own checks`;
  if (out.error || out.invalidFlag || input.validateOnly) {
    // Still a useful count for a title: the sites that are not compiled out yet.
    if (input.validateOnly && !out.error) out.wrapped = open.map((s) => ({ ...ref(s), kind: 'statement' as const }));
    return out;
  }

  const byFile = new Map<string, TextEdit[]>();
  const editsOf = (file: string) => {
    let e = byFile.get(file);
    if (!e) byFile.set(file, (e = []));
    return e;
  };

  // 1. Statements: locate each site's statement, group adjacent ones, wrap each group.
  const groups = groupStatements(open, cache, out);
  const rangesByFile = new Map<string, [number, number][]>();
  for (const g of groups) {
    const r = rangesByFile.get(g.file.file) ?? [];
    r.push([g.stmts[0].startIndex, g.stmts[g.stmts.length - 1].endIndex]);
    rangesByFile.set(g.file.file, r);
  }
  for (const g of groups) {
    const voids = onlyUsedByWrapped(g.stmts, rangesByFile.get(g.file.file) ?? []);
    if (voids.length) out.notes.push(`${g.file.file}:${g.sites[0].line}: ${voids.map((v) => `\`${v}\``).join(', ')} only feed${voids.length === 1 ? 's' : ''} the wrapped code, so the #else branch keeps ${voids.length === 1 ? 'it' : 'them'} used: ${voids.map((v) => `(void)${v};`).join(' ')}`);
    editsOf(g.file.file).push(...wrapStatements(g, out.flag, voids));
    for (const s of g.sites) out.wrapped.push({ ...ref(s), kind: 'statement' });
  }

  // 2. #define bodies that write the family themselves (no site of their own in the analysis).
  if (sites.some((s) => isGlobalTarget(s, family))) {
    for (const m of familyMacros(family, cache, snippet, isTest)) {
      if ('flag' in m) {
        out.alreadyWrapped.push(m);
        continue;
      }
      if ('reason' in m) {
        out.skipped.push(m);
        continue;
      }
      editsOf(m.file.file).push(...wrapDefine(m.file, m.define, m.node, out.flag));
      out.wrapped.push({ file: m.file.file, line: m.define.line, column: 1, kind: 'macro' });
    }
  }

  out.skipped.sort(bySite);
  out.alreadyWrapped.sort(bySite);
  if (!out.wrapped.length) {
    if (!out.skipped.length) out.error = out.alreadyWrapped.length ? `every write site of \`${family}\` is compiled out already (${[...new Set(out.alreadyWrapped.map((a) => a.flag))].join(', ')})` : `nothing to wrap for \`${family}\``;
    else out.error = `no write site of \`${family}\` can be wrapped: ${out.skipped.map((s) => `${s.file}:${s.line} ${s.reason}`).join('; ')}`;
    return out;
  }

  // 3. The default in the build-flags header, and the header's #include where it is missing.
  const header = chooseHeader(input, cache);
  if ('error' in header) {
    out.error = header.error;
    out.wrapped = [];
    return out;
  }
  const hf = cache.get(header.file);
  const defaultAdded = !hf?.pp.defaults.some((d) => d.name === out.flag);
  if (defaultAdded) {
    const comment = `/* ${family} telemetry (${out.wrapped.length} write site${out.wrapped.length === 1 ? '' : 's'}${temperature !== 'unknown' ? `, ${temperature}` : ''}): 0 compiles it out, 1 compiles it in. */`;
    if (hf) editsOf(header.file).push(defaultBlockEdit(hf, out.flag, comment));
    else editsOf(header.file).push({ start: 0, end: 0, newText: newHeaderText(header.file, out.flag, comment) });
  }
  out.header = { file: header.file, created: !hf, defaultAdded };
  const edited = [...byFile.keys()].filter((f) => f !== header.file);
  for (const file of edited) {
    const f = cache.get(file)!;
    if (reaches(file, header.file, cache)) continue;
    editsOf(file).push(includeEdit(f, header.file));
    out.includesAdded.push(file);
  }

  const testReads = evidence.filter((e) => e.kind === 'test');
  if (testReads.length) {
    const at = testReads.slice(0, 3).map((e) => `${e.file}:${e.line}${e.function ? ` in ${e.function}` : ''}`).join(', ');
    out.notes.push(`test or benchmark code reads \`${family}\` (${at}${testReads.length > 3 ? ', …' : ''}): with ${out.flag} at 0 those reads see 0, so a test that checks the counter needs ${out.flag}=1`);
  }
  for (const s of sites) {
    if (s.gates.length && out.wrapped.some((w) => w.file === s.file && w.line === s.line)) {
      const off = report.envGates.filter((g) => s.gates.includes(g.name) && g.default === 'off').map((g) => g.name);
      if (off.length) {
        out.notes.push(`${s.file}:${s.line} only runs when ${off.join(', ')} ${off.length === 1 ? 'is' : 'are'} on (off by default): compiling it out will not change the default benchmark (the Phase 29 lesson)`);
        break;
      }
    }
  }

  for (const [file, edits] of byFile) {
    edits.sort((a, b) => a.start - b.start || a.end - b.end);
    for (let i = 1; i < edits.length; i++) {
      if (edits[i].start < edits[i - 1].end) throw new Error(`compile-out: overlapping edits in ${file} at offset ${edits[i].start}`);
    }
    const f = cache.get(file);
    out.edits.push({ file, version: f?.version ?? null, ...(f ? {} : { create: true }), edits });
  }
  out.edits.sort((a, b) => a.file.localeCompare(b.file));
  out.wrapped.sort(bySite);
  return out;
}

function ref(s: SiteRef): SiteRef {
  return { file: s.file, line: s.line, column: s.column };
}

function bySite(a: SiteRef, b: SiteRef): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column;
}

function dedupeSites(sites: AtomicReport[]): AtomicReport[] {
  const seen = new Set<string>();
  return sites.filter((s) => {
    const k = `${s.file}:${s.line}:${s.column}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function mergeEvidence(sites: readonly AtomicReport[]): Evidence[] {
  const seen = new Set<string>();
  const out: Evidence[] = [];
  for (const s of sites) {
    for (const e of s.evidence) {
      const k = `${e.file}:${e.line}:${e.column ?? 0}:${e.kind}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(e);
    }
  }
  return out.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || (a.column ?? 0) - (b.column ?? 0));
}

/** `g_x[i].f`: the family is a global named in the code (not a struct type reached through pointers). */
function isGlobalTarget(s: AtomicReport, family: string): boolean {
  const t = tokenizePp(s.target);
  return t.length > 0 && t[0].text === family;
}

// ---- statements --------------------------------------------------------------------------------

function groupStatements(open: readonly AtomicReport[], cache: FileCache, out: CompileOutPlan): Group[] {
  const located: { file: ParsedFile; stmt: Node; site: AtomicReport }[] = [];
  for (const s of open) {
    const f = cache.get(s.file)!;
    const at = statementAt(f, s.line, s.column, s.callee);
    if ('reason' in at) {
      out.skipped.push({ ...ref(s), reason: at.reason });
      continue;
    }
    const first = f.lines.lineOf(at.stmt.startIndex);
    const last = f.lines.lineOf(at.stmt.endIndex - 1);
    const directive = f.pp.directives.find((d) => d.line >= first && d.line <= last);
    if (directive) {
      out.skipped.push({ ...ref(s), reason: `a preprocessor directive (line ${directive.line}) sits inside the statement` });
      continue;
    }
    if (at.stmt.hasError) {
      out.skipped.push({ ...ref(s), reason: 'the statement does not parse cleanly (a macro tree-sitter cannot see through?)' });
      continue;
    }
    located.push({ file: f, stmt: at.stmt, site: s });
  }
  located.sort((a, b) => a.file.file.localeCompare(b.file.file) || a.stmt.startIndex - b.stmt.startIndex);
  const groups: Group[] = [];
  for (const l of located) {
    const last = groups[groups.length - 1];
    if (last && last.file === l.file) {
      const prev = last.stmts[last.stmts.length - 1];
      if (prev.equals(l.stmt)) {
        last.sites.push(l.site); // two sites in one statement (`a++, b++;` never gets here)
        continue;
      }
      const next = nextStatement(prev);
      if (next && next.equals(l.stmt)) {
        last.stmts.push(l.stmt);
        last.sites.push(l.site);
        continue;
      }
    }
    groups.push({ file: l.file, stmts: [l.stmt], sites: [l.site] });
  }
  return groups;
}

/** The #if / #else / #endif around one group, keeping its text, indentation and line endings. */
function wrapStatements(g: Group, flag: string, voids: readonly string[]): TextEdit[] {
  const f = g.file;
  const { eol } = f.lines;
  const first = g.stmts[0];
  const last = g.stmts[g.stmts.length - 1];
  const startLine = f.lines.lineOf(first.startIndex);
  const lineIndent = f.lines.indent(startLine);
  const startOwned = ownsStart(f, first.startIndex);
  // A statement that shares its line with code before it (`if (c) x++;`) moves to its own line,
  // one step deeper; the directives always start their own lines.
  const indent = startOwned ? lineIndent : lineIndent + indentUnit(f.lines);
  const noOp = (voids.length ? voids.map((v) => `(void)${v};`) : ['(void)0;']).map((s) => indent + s).join(eol);
  const edits: TextEdit[] = [];
  if (startOwned) edits.push({ start: f.lines.start(startLine), end: f.lines.start(startLine), newText: `#if ${flag}${eol}` });
  else {
    let ws = first.startIndex;
    while (ws > 0 && (f.text[ws - 1] === ' ' || f.text[ws - 1] === '\t')) ws--;
    edits.push({ start: ws, end: first.startIndex, newText: `${eol}#if ${flag}${eol}${indent}` });
  }
  const end = ownedEnd(f, last.endIndex);
  const tail = `${eol}#else${eol}${noOp}${eol}#endif`;
  if (end.owned) edits.push({ start: end.at, end: end.at, newText: tail });
  else {
    let ws = end.at;
    while (f.text[ws] === ' ' || f.text[ws] === '\t') ws++;
    edits.push({ start: end.at, end: ws, newText: `${tail}${eol}${lineIndent}` });
  }
  return edits;
}

// ---- #define bodies ----------------------------------------------------------------------------

type MacroResult =
  | { file: ParsedFile; define: Directive; node: Node }
  | (SiteRef & { flag: string })
  | (SiteRef & { reason: string });

/**
 * #defines whose body writes the family (`#define TC_HIT(c) atomic_fetch_add(&g_tc[c].hit, 1, ...)`).
 * One is wrapped whole, with a no-op #else definition, when every use of it is a statement;
 * otherwise it is reported.
 */
function familyMacros(family: string, cache: FileCache, snippet: (t: string) => Tree, isTest: (f: string) => boolean): MacroResult[] {
  const out: MacroResult[] = [];
  const files = cache.source.files();
  for (const file of files) {
    const f = cache.get(file);
    if (!f || !f.text.includes(family)) continue;
    for (const d of f.pp.defines) {
      if (!d.name || !d.value || !tokenizePp(d.value).some((t) => t.kind === 'id' && t.text === family)) continue;
      const body = snippet(`void __alloc_lens_macro(void) {\n${d.value};\n}\n`);
      if (!writesTo(body.rootNode, family)) continue;
      const at = { file, line: d.line, column: 1 };
      const w = wrapperAround(f, d.line, snippet);
      if (w) {
        out.push({ ...at, flag: w.flag });
        continue;
      }
      if (isTest(file)) {
        out.push({ ...at, reason: `macro ${d.name} is in test or benchmark code (allocLens.analysis.ignoreReadsIn)` });
        continue;
      }
      const node = defineNode(f, d);
      if (!node) {
        out.push({ ...at, reason: `macro ${d.name}: its #define does not parse cleanly` });
        continue;
      }
      const bad = nonStatementUse(d, files, cache);
      if (bad) out.push({ ...at, reason: `macro ${d.name} writes \`${family}\` and ${bad}: wrap that use by hand` });
      else out.push({ file: f, define: d, node });
    }
  }
  return out;
}

function defineNode(f: ParsedFile, d: Directive): Node | null {
  const lineStart = f.lines.start(d.line);
  const hash = lineStart + f.lines.indent(d.line).length;
  let n: Node | null = f.tree().rootNode.descendantForIndex(hash);
  while (n && n.type !== 'preproc_def' && n.type !== 'preproc_function_def') n = n.parent;
  return n && n.childForFieldName('name')?.text === d.name && !n.hasError ? n : null;
}

/** Where a macro is used other than as a whole statement (`M(x);`), as a phrase; null when nowhere. */
function nonStatementUse(d: Directive, files: readonly string[], cache: FileCache): string | null {
  const name = d.name!;
  for (const file of files) {
    const f = cache.get(file);
    if (!f || !f.text.includes(name)) continue;
    for (const other of f.pp.defines) {
      if (other !== d && other.value && tokenizePp(other.value).some((t) => t.kind === 'id' && t.text === name)) return `is used in the body of macro ${other.name} (${file}:${other.line})`;
    }
    for (const id of f.tree().rootNode.descendantsOfType('identifier')) {
      if (!id || id.text !== name) continue;
      const p = id.parent;
      if (!p || p.type.startsWith('preproc_')) continue; // its own #define, #ifdef M
      let use: Node = id;
      if (d.params) {
        if (p.type !== 'call_expression' || !p.childForFieldName('function')?.equals(id)) return `is named without a call at ${file}:${id.startPosition.row + 1}`;
        use = p;
      }
      let up = use.parent;
      while (up && up.type === 'cast_expression' && up.childForFieldName('type')?.text.replace(/\s+/g, '') === 'void') up = up.parent;
      if (up?.type !== 'expression_statement') return `its value is used at ${file}:${id.startPosition.row + 1}`;
    }
  }
  return null;
}

function wrapDefine(f: ParsedFile, d: Directive, node: Node, flag: string): TextEdit[] {
  const { eol } = f.lines;
  const head = f.text.slice(node.startIndex, (node.childForFieldName('parameters') ?? node.childForFieldName('name'))!.endIndex);
  const indent = f.lines.indent(d.line);
  const at = f.lines.start(d.line);
  const end = f.lines.contentEnd(d.endLine);
  return [
    { start: at, end: at, newText: `#if ${flag}${eol}` },
    { start: end, end, newText: `${eol}#else${eol}${indent}${head} ((void)0)${eol}#endif` },
  ];
}

// ---- header and includes -----------------------------------------------------------------------

function normalizeRel(p: string): string {
  return path.posix.normalize(p.replace(/\\/g, '/')).replace(/^\.\//, '');
}

const HEADER = /\.(h|hh|hpp|inc\.h)$/;

function chooseHeader(input: CompileOutInput, cache: FileCache): { file: string } | { error: string } {
  const setting = (input.flagsHeader ?? '').trim();
  if (setting) {
    const file = normalizeRel(setting);
    if (file.startsWith('../') || path.isAbsolute(file)) return { error: `allocLens.compileOut.flagsHeader (${setting}) must be a path inside the workspace folder` };
    return { file };
  }
  const counts = new Map<string, { n: number; compiled: number }>();
  for (const fl of input.report.flags) {
    if (fl.default === null || !HEADER.test(fl.file)) continue;
    const c = counts.get(fl.file) ?? { n: 0, compiled: 0 };
    c.n++;
    if (fl.name.endsWith('_COMPILED')) c.compiled++;
    counts.set(fl.file, c);
  }
  const best = [...counts].sort((a, b) => b[1].compiled - a[1].compiled || b[1].n - a[1].n || a[0].localeCompare(b[0]))[0];
  if (!best || !cache.get(best[0])) return { error: 'no header holds flag defaults (#ifndef X / #define X 0) yet: set allocLens.compileOut.flagsHeader to the header they should go to (it is created if missing)' };
  return { file: best[0] };
}

/** The conditional a `#ifndef NAME / #define NAME v` default sits in. */
function defaultConditional(f: ParsedFile, name: string, line: number): Conditional | null {
  let best: Conditional | null = null;
  for (const c of f.pp.conditionals) {
    if (c.includeGuard || !(c.startLine < line && line < c.endLine)) continue;
    const b = c.branches[0];
    if (b.kind === 'ifndef' && tokenizePp(b.expr).some((t) => t.text === name) && (!best || c.startLine > best.startLine)) best = c;
  }
  return best;
}

/**
 * The default block, after the last `#ifndef X_COMPILED` default (else before the include
 * guard's #endif, else at the end), as a blank line, the comment and the three lines, all added
 * after the content of an existing line: the reverse removes exactly that.
 */
function defaultBlockEdit(f: ParsedFile, flag: string, comment: string): TextEdit {
  const { eol } = f.lines;
  const block = `${comment}${eol}#ifndef ${flag}${eol}# define ${flag} 0${eol}#endif`;
  let anchor = 0;
  for (const d of f.pp.defaults) {
    if (!d.name.endsWith('_COMPILED')) continue;
    const c = defaultConditional(f, d.name, d.line);
    if (c && c.endLine > anchor) anchor = c.endLine;
  }
  if (!anchor) {
    const guard = f.pp.conditionals.find((c) => c.includeGuard);
    const limit = guard ? guard.endLine : f.lines.count + 1;
    const floor = guard ? guard.startLine : 0;
    anchor = limit - 1;
    while (anchor > floor && f.lines.isBlank(anchor)) anchor--;
    if (guard && anchor <= guard.startLine) anchor = guard.startLine + 1; // the guard's #define
  }
  if (anchor <= 0) return { start: 0, end: 0, newText: `${block}${eol}` };
  const at = f.lines.contentEnd(anchor);
  return { start: at, end: at, newText: `${eol}${eol}${block}` };
}

function newHeaderText(file: string, flag: string, comment: string): string {
  const guard = `${path.posix.basename(file).toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
  return `/* ${path.posix.basename(file)} - compile-time flags (compile-outs added by Alloc Lens). */\n#ifndef ${guard}\n#define ${guard}\n\n${comment}\n#ifndef ${flag}\n# define ${flag} 0\n#endif\n\n#endif /* ${guard} */\n`;
}

/** Does `file` include `header`, directly or through the workspace headers it includes? */
function reaches(file: string, header: string, cache: FileCache): boolean {
  const all = cache.source.files();
  const seen = new Set<string>([file]);
  const queue = [file];
  while (queue.length && seen.size < 2000) {
    const cur = queue.shift()!;
    const f = cache.get(cur);
    if (!f) continue;
    for (const d of f.pp.directives) {
      if (d.kind !== 'include' || !d.header || d.header.length < 3) continue;
      const name = normalizeRel(d.header.slice(1, -1));
      const candidates: string[] = [];
      if (d.header.startsWith('"')) candidates.push(normalizeRel(path.posix.join(path.posix.dirname(cur), name)));
      // -I directories: any workspace file the name is a path suffix of.
      for (const other of all) if (other === name || other.endsWith(`/${name}`)) candidates.push(other);
      if (header === name || header.endsWith(`/${name}`)) candidates.push(header);
      for (const c of candidates) {
        if (c === header) return true;
        if (!seen.has(c)) {
          seen.add(c);
          queue.push(c);
        }
      }
    }
  }
  return false;
}

/** `#include "<relative path>"` after the file's last top-level #include (or its guard, or at the top). */
function includeEdit(f: ParsedFile, header: string): TextEdit {
  const { eol } = f.lines;
  const rel = path.posix.relative(path.posix.dirname(f.file), header);
  const line = `#include "${rel}"`;
  const nested = (l: number) => f.pp.conditionals.some((c) => !c.includeGuard && c.startLine < l && l < c.endLine);
  const includes = f.pp.directives.filter((d) => d.kind === 'include' && !nested(d.line));
  if (includes.length) {
    const at = f.lines.contentEnd(includes[includes.length - 1].endLine);
    return { start: at, end: at, newText: `${eol}${line}` };
  }
  if (f.pp.includeGuard) {
    const def = f.pp.directives.find((d) => d.kind === 'define' && d.name === f.pp.includeGuard);
    if (def) {
      const at = f.lines.contentEnd(def.endLine);
      return { start: at, end: at, newText: `${eol}${line}` };
    }
  }
  // After a leading comment (the file's header comment), else at the very top.
  const firstChild = f.tree().rootNode.namedChildren.find((n) => !!n);
  if (firstChild?.type === 'comment') {
    const at = f.lines.contentEnd(f.lines.lineOf(firstChild.endIndex - 1));
    return { start: at, end: at, newText: `${eol}${line}` };
  }
  return { start: 0, end: 0, newText: `${line}${eol}` };
}
