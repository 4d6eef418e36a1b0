// Diagnostics: the analysis findings of every workspace file, pushed after each change of the
// index or the settings. An edit in one file can change another file's findings (a new read
// reclassifies a counter written elsewhere), so every file is recomputed and only the files whose
// diagnostics changed are republished; files that no longer have any are cleared.
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  DiagnosticSeverity,
  type ClientCapabilities,
  type Diagnostic,
  type DiagnosticRelatedInformation,
  type Disposable,
  type ServerCapabilities,
} from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { DiagnosticSeverityName } from '../../core/config';
import type { Finding } from '../../core/analysis/report';
import { folderAnalysis, rootOf, type FolderAnalysis } from '../analysisView';
import type { ServerContext } from '../context';
import { toLocation, toPosition, toRange, wordAt, wordRange } from '../positions';
import { serialized } from './shared';

export const capabilities: ServerCapabilities = {};

export function supported(caps: ClientCapabilities): boolean {
  return !!caps.textDocument?.publishDiagnostics;
}

export const DIAGNOSTIC_SOURCE = 'alloc-lens';

const SEVERITY: Record<DiagnosticSeverityName, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

/**
 * The rule's section in docs/diagnostics.md, the file shipped in the VSIX next to dist/ (the
 * server runs as dist/server.js). Undefined if it is missing, rather than a made-up address.
 */
function docsHref(rule: string): string | undefined {
  docsPage ??= existsSync(DOCS_FILE) ? pathToFileURL(DOCS_FILE).href : '';
  return docsPage ? `${docsPage}#${rule}` : undefined;
}
const DOCS_FILE = path.join(__dirname, '..', 'docs', 'diagnostics.md');
let docsPage: string | undefined;

export function register(ctx: ServerContext): Disposable {
  const published = new Map<string, string>();
  let disposed = false;

  const pass = serialized(ctx, 'diagnostics', async () => {
    await ctx.freshen();
    const next = await computeAll(ctx);
    if (disposed) return;
    for (const [uri, diagnostics] of next) {
      const json = JSON.stringify(diagnostics);
      if (published.get(uri) === json) continue;
      published.set(uri, json);
      void ctx.connection.sendDiagnostics({ uri, diagnostics });
    }
    for (const uri of [...published.keys()]) {
      if (next.has(uri)) continue;
      published.delete(uri);
      void ctx.connection.sendDiagnostics({ uri, diagnostics: [] });
    }
  });
  const changes = ctx.onIndexChanged(() => pass.trigger());
  return {
    dispose() {
      disposed = true;
      pass.dispose();
      changes.dispose();
    },
  };
}

/** Diagnostics by uri for every file of every folder that has findings. */
async function computeAll(ctx: ServerContext): Promise<Map<string, Diagnostic[]>> {
  const out = new Map<string, Diagnostic[]>();
  const folders = ctx.workspaceFolders();
  const caps = ctx.clientCapabilities.textDocument?.publishDiagnostics;
  for (const root of folders) {
    const analysis = await folderAnalysis(ctx, root);
    if (!analysis.settings.diagnostics.enable) continue;
    for (const [file, findings] of analysis.lookup.findingsByFile) {
      const abs = path.resolve(root, file);
      // A nested folder's files belong to it, not to the folder around it.
      if (rootOf(folders, abs) !== root) continue;
      const uri = pathToFileURL(abs).href;
      const doc = ctx.documents.get(uri);
      const diagnostics: Diagnostic[] = [];
      for (const f of findings) {
        const d = toDiagnostic(f, analysis, doc, !!caps?.relatedInformation, !!caps?.codeDescriptionSupport);
        if (d) diagnostics.push(d);
      }
      if (diagnostics.length) out.set(uri, diagnostics);
    }
  }
  return out;
}

export function severityOf(rule: Finding['rule'], settings: FolderAnalysis['settings']): DiagnosticSeverity | undefined {
  const s = settings.diagnostics.rules[rule] ?? settings.diagnostics.severity;
  return s === 'off' ? undefined : SEVERITY[s];
}

function toDiagnostic(f: Finding, analysis: FolderAnalysis, doc: TextDocument | undefined, related: boolean, codeDescription: boolean): Diagnostic | undefined {
  const severity = severityOf(f.rule, analysis.settings);
  if (severity === undefined) return undefined;
  const atomic = f.column !== undefined ? analysis.lookup.atomicsByFile.get(f.file)?.find((a) => a.line === f.line && a.column === f.column) : undefined;
  const d: Diagnostic = {
    range: atomic ? toRange(atomic, doc) : rangeOf(f, doc),
    severity,
    code: f.rule,
    source: DIAGNOSTIC_SOURCE,
    message: f.message,
  };
  const href = codeDescription ? docsHref(f.rule) : undefined;
  if (href) d.codeDescription = { href };
  if (related) {
    const info = relatedOf(f, analysis);
    if (info.length) d.relatedInformation = info;
  }
  return d;
}

/** A finding without an atomic: the word at its column, or the flag it names on its line. */
function rangeOf(f: Finding, doc: TextDocument | undefined) {
  if (f.column !== undefined) {
    const at = toPosition(f.line, f.column, doc);
    const word = doc && wordAt(doc, at);
    return word ? word.range : { start: at, end: at };
  }
  const name = /^[A-Za-z_]\w*/.exec(f.message)?.[0] ?? '';
  return wordRange(f.line, name, doc);
}

const MAX_RELATED = 8;

function relatedOf(f: Finding, analysis: FolderAnalysis): DiagnosticRelatedInformation[] {
  const { root, lookup } = analysis;
  const atomic = lookup.atomicsByFile.get(f.file)?.find((a) => a.line === f.line && a.column === f.column);
  if (f.rule === 'gate-off-by-default' && atomic) {
    return atomic.gates
      .map((n) => lookup.gates.get(n))
      .filter((g) => !!g)
      .map((g) => ({ location: toLocation(root, g), message: `${g.name} is read here; unset, it is ${g.defaultValue === '0' ? 'OFF' : g.defaultValue}` }));
  }
  if (f.rule === 'telemetry-not-compiled-out' && atomic) {
    return atomic.evidence.slice(0, MAX_RELATED).map((e) => ({ location: toLocation(root, e), message: `read (${e.kind})${e.function ? ` in ${e.function}` : ''}` }));
  }
  return [];
}
