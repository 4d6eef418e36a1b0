// What the editor features read: the analysis of the workspace folder a document belongs to,
// under that folder's settings, with lookups by file and name. Reports are cached by the core
// until a file changes, and the lookups per report object, so every feature can ask freely.
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { CancellationToken } from 'vscode-languageserver/node';
import type { AllocLensSettings } from '../core/config';
import { analysisOptionsFrom } from '../core/analysis/options';
import { gateDefaultText, gateValueUnder, selectorProfiles, type GateValue } from '../core/analysis/profiles';
import type { AtomicReport, AuditReport, EnvGateReport, Finding, FlagReport, InactiveRegion } from '../core/analysis/report';
import type { ServerContext } from './context';

export interface FolderAnalysis {
  root: string;
  settings: AllocLensSettings;
  report: AuditReport;
  lookup: ReportLookup;
}

export interface FileView extends FolderAnalysis {
  uri: string;
  path: string;
  /** The file relative to the root, as report paths are. */
  rel: string;
  /** The open document, if it is open. */
  doc: TextDocument | undefined;
}

/** A `file:` uri as a path; undefined for other schemes and malformed uris. */
export function pathOf(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

/** The innermost workspace folder holding `file`. */
export function rootOf(folders: readonly string[], file: string): string | undefined {
  let best: string | undefined;
  for (const root of folders) {
    const rel = path.relative(root, file);
    if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) continue;
    if (!best || root.length > best.length) best = root;
  }
  return best;
}

/** The analysis of one workspace folder under its settings (never throws: a failure is empty). */
export async function folderAnalysis(ctx: ServerContext, root: string): Promise<FolderAnalysis> {
  const settings = await ctx.settings.get(pathToFileURL(root).href);
  let report: AuditReport;
  try {
    report = ctx.index.report(analysisOptionsFrom(settings.analysis), root);
  } catch (err) {
    ctx.connection.console.error(`analysis of ${root} failed: ${err instanceof Error ? err.message : String(err)}`);
    report = { version: 1, root, files: 0, atomics: [], envGates: [], flags: [], inactiveRegions: [], findings: [], skipped: [] };
  }
  return { root, settings, report, lookup: lookupOf(report) };
}

/**
 * The view of one document for a request: its pending edit applied first, then its folder's
 * analysis. Undefined for files outside the workspace folders, unknown uris and cancelled requests.
 */
export async function fileView(ctx: ServerContext, uri: string, token?: CancellationToken): Promise<FileView | undefined> {
  const file = pathOf(uri);
  const root = file && rootOf(ctx.workspaceFolders(), file);
  if (!file || !root) return undefined;
  if (!(await ctx.freshen(uri, token))) return undefined;
  const analysis = await folderAnalysis(ctx, root);
  if (token?.isCancellationRequested) return undefined;
  return { ...analysis, uri, path: file, rel: path.relative(root, file).split(path.sep).join('/'), doc: ctx.documents.get(uri) };
}

/** Lookups over one report, built once per report object. */
export class ReportLookup {
  readonly atomicsByFile = new Map<string, AtomicReport[]>();
  readonly findingsByFile = new Map<string, Finding[]>();
  readonly regionsByFile = new Map<string, InactiveRegion[]>();
  readonly gates = new Map<string, EnvGateReport>();
  /** Gates by the static or global that caches them. */
  readonly gatesByCache = new Map<string, EnvGateReport>();
  /** Where each file reads a gate (getenv or a wrapper's call), by file. */
  readonly gateReadsByFile = new Map<string, { gate: EnvGateReport; line: number }[]>();
  readonly flags = new Map<string, FlagReport>();
  /** Atomics under each `#if` macro. */
  readonly guarded = new Map<string, AtomicReport[]>();
  /** Every profile name the presets know. */
  readonly profiles: string[];
  /** ENV variables that select a profile (`QUILL_MODE`), with the profiles each selects. */
  readonly selectors: Map<string, Set<string>>;

  constructor(report: AuditReport) {
    const push = <K, V>(map: Map<K, V[]>, key: K, value: V) => {
      const list = map.get(key);
      if (list) list.push(value);
      else map.set(key, [value]);
    };
    for (const a of report.atomics) {
      push(this.atomicsByFile, a.file, a);
      if (a.guard) push(this.guarded, a.guard, a);
    }
    for (const f of report.findings) push(this.findingsByFile, f.file, f);
    for (const r of report.inactiveRegions) push(this.regionsByFile, r.file, r);
    const profiles = new Set<string>();
    for (const g of report.envGates) {
      this.gates.set(g.name, g);
      if (g.cachedIn) this.gatesByCache.set(g.cachedIn, g);
      for (const r of g.reads ?? [{ file: g.file, line: g.line }]) push(this.gateReadsByFile, r.file, { gate: g, line: r.line });
      for (const p of Object.keys(g.profiles)) profiles.add(p);
    }
    this.selectors = selectorProfiles(report);
    for (const f of report.flags) this.flags.set(f.name, f);
    this.profiles = [...profiles].sort();
  }

  /** The compiled-out region holding a 1-based line of a file, if any. */
  inactiveAt(file: string, line: number): InactiveRegion | undefined {
    return this.regionsByFile.get(file)?.find((r) => line >= r.startLine && line <= r.endLine);
  }
}

const lookups = new WeakMap<AuditReport, ReportLookup>();

export function lookupOf(report: AuditReport): ReportLookup {
  let l = lookups.get(report);
  if (!l) lookups.set(report, (l = new ReportLookup(report)));
  return l;
}

// ---- words the features share ---------------------------------------------------------------

const STRONG: Record<string, string> = { condition: 'read in condition', cas: 'CAS', exchange: 'exchange', index: 'used as index', return: 'returned' };
const UNCLEAR = new Set(['call', 'assign', 'arith', 'address', 'unknown']);

/** The short label of an atomic: `telemetry · hot`, `correctness (read in condition)`, `compiled out: X`. */
export function atomicLabel(a: AtomicReport, lookup: ReportLookup): string {
  const region = lookup.inactiveAt(a.file, a.line);
  if (region) return `compiled out: ${a.guard ?? region.condition}`;
  if (a.classification === 'correctness') {
    const strong = a.evidence.find((e) => e.kind in STRONG);
    return `correctness${strong ? ` (${STRONG[strong.kind]})` : ''}`;
  }
  if (a.classification === 'unknown') {
    const unclear = a.evidence.find((e) => UNCLEAR.has(e.kind));
    return `unknown${unclear ? ` (value reaches ${unclear.kind === 'call' ? 'a call' : `an ${unclear.kind}`})` : ''}`;
  }
  return `telemetry · ${a.temperature}${a.guard ? ` · #if ${a.guard}` : ''}`;
}

export function defaultLabel(g: EnvGateReport): string {
  return `default ${gateDefaultText(g)}`;
}

/** A gate's value under the folder's active profile: the same rule as the Flags & Gates view. */
export function gateValue(g: EnvGateReport, view: Pick<FolderAnalysis, 'settings' | 'lookup'>): GateValue {
  return gateValueUnder(g, view.settings.profile, view.settings.ab.profiles, view.lookup.selectors);
}

/** Whether an on/off gate is off under the folder's active profile ('' = every gate at its default). */
export function gateIsOff(g: EnvGateReport, view: Pick<FolderAnalysis, 'settings' | 'lookup'>): boolean {
  if (g.default !== 'on' && g.default !== 'off') return false;
  const { value } = gateValue(g, view);
  return value !== null && Number(value) === 0;
}
