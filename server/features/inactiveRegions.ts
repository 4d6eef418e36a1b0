// Dimmed code, pushed as `allocLens/inactiveRegions` to a client that advertises
// `experimental.allocLens.inactiveRegions` (see protocol/editor.ts for why not semantic tokens):
// lines the preprocessor excludes under the flag defaults plus the configured defines, and, with
// `inactiveRegions.gatedOff`, the bodies of functions whose ENV gate is off under the profile.
import * as path from 'node:path';
import type { ClientCapabilities, Disposable, ServerCapabilities } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { InactiveRegionsNotification, type AllocLensClientCapabilities, type DimmedRegion } from '../../protocol/editor';
import { folderAnalysis, gateIsOff, gateValue, pathOf, rootOf, type FolderAnalysis } from '../analysisView';
import type { ServerContext } from '../context';
import { lineText } from '../positions';
import { serialized } from './shared';

export const capabilities: ServerCapabilities = {};

export function supported(caps: ClientCapabilities): boolean {
  const experimental = caps.experimental as { allocLens?: AllocLensClientCapabilities } | undefined;
  return experimental?.allocLens?.inactiveRegions === true;
}

export function register(ctx: ServerContext): Disposable {
  const sent = new Map<string, string>();
  /** Documents whose text changed since their regions were sent: resent even when equal, as the client's decorations moved with the text. */
  const force = new Set<string>();
  let disposed = false;

  const sendAll = async () => {
    await ctx.freshen();
    const analyses = new Map<string, Promise<FolderAnalysis>>();
    for (const doc of ctx.documents.all()) {
      if (disposed) return;
      const file = pathOf(doc.uri);
      const root = file && rootOf(ctx.workspaceFolders(), file);
      let regions: DimmedRegion[] = [];
      if (file && root) {
        if (!analyses.has(root)) analyses.set(root, folderAnalysis(ctx, root));
        regions = dimmedRegions(ctx, await analyses.get(root)!, file, doc);
      }
      const json = JSON.stringify(regions);
      if (sent.get(doc.uri) === json && !force.has(doc.uri)) continue;
      force.delete(doc.uri);
      if (!sent.has(doc.uri) && !regions.length) {
        sent.set(doc.uri, json);
        continue;
      }
      sent.set(doc.uri, json);
      void ctx.connection.sendNotification(InactiveRegionsNotification.type, { textDocument: { uri: doc.uri }, regions });
    }
  };

  /** One pass at a time, so an older pass (older settings) never sends after a newer one. */
  const pass = serialized(ctx, 'inactive regions', sendAll);
  const changes = ctx.onIndexChanged((change) => {
    for (const uri of change.uris) force.add(uri);
    pass.trigger();
  });
  const closed = ctx.documents.onDidClose((uri) => {
    sent.delete(uri);
    force.delete(uri);
  });
  return {
    dispose() {
      disposed = true;
      pass.dispose();
      changes.dispose();
      closed.dispose();
    },
  };
}

/** The regions of one open document under its folder's analysis and settings. */
export function dimmedRegions(ctx: ServerContext, analysis: FolderAnalysis, file: string, doc: TextDocument): DimmedRegion[] {
  const { settings, lookup, report } = analysis;
  if (!settings.inactiveRegions.enable) return [];
  const rel = path.relative(analysis.root, file).split(path.sep).join('/');
  const lines = (start: number, end: number) => ({ start: { line: start - 1, character: 0 }, end: { line: end - 1, character: lineText(doc, end - 1).length } });
  const out: DimmedRegion[] = [];
  for (const r of lookup.regionsByFile.get(rel) ?? []) {
    if (r.startLine > doc.lineCount) continue;
    const flag = lookup.flags.get(r.condition);
    out.push({ range: lines(r.startLine, Math.min(r.endLine, doc.lineCount)), kind: 'preprocessor', reason: `#if ${r.condition}${flag?.default !== undefined && flag.default !== null ? ` (${flag.default})` : ''}` });
  }
  if (!settings.inactiveRegions.gatedOff) return out;
  const profile = settings.profile;
  const functions = ctx.index.facts(file)?.functions ?? [];
  for (const g of report.envGates) {
    if (!g.gatedFunctions.length || !gateIsOff(g, analysis)) continue;
    const reason = gateValue(g, analysis).source !== 'default' ? `${g.name} is off under profile ${profile}` : `${g.name} is off by default`;
    for (const fn of functions) {
      if (!g.gatedFunctions.includes(fn.name)) continue;
      const body = bodyLines(doc, fn.line, fn.endLine);
      if (body) out.push({ range: lines(body.start, body.end), kind: 'gate', reason });
    }
  }
  return out.sort((a, b) => a.range.start.line - b.range.start.line);
}

/** The lines between a function's opening brace and its closing one (1-based), if any. */
function bodyLines(doc: TextDocument, line: number, endLine: number): { start: number; end: number } | undefined {
  for (let l = line; l <= endLine && l <= doc.lineCount; l++) {
    if (lineText(doc, l - 1).includes('{')) {
      const start = l + 1;
      const end = endLine - 1;
      return start <= end ? { start, end } : undefined;
    }
  }
  return undefined;
}
