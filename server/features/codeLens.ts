// Code lenses: on each function with atomics (`5 atomics: 3 telemetry (2 not compiled out) ·
// 2 correctness`, listing them), and on each compile-flag default (`13 sites · default 0`,
// listing its uses, and `A/B this flag`).
import {
  CodeLensRefreshRequest,
  type CancellationToken,
  type ClientCapabilities,
  type CodeLens,
  type CodeLensParams,
  type Disposable,
  type Location,
  type ServerCapabilities,
} from 'vscode-languageserver/node';
import type { AtomicReport } from '../../core/analysis/report';
import { AB_RUN_FOR_FLAG_COMMAND, SHOW_LOCATIONS_COMMAND, type AbRunForFlagArgs, type ShowLocationsArgs } from '../../protocol/editor';
import { fileView, type FileView } from '../analysisView';
import type { ServerContext } from '../context';
import { toLocation, toPosition } from '../positions';
import { guarded, refreshOnIndexChange } from './shared';

export const capabilities: ServerCapabilities = { codeLensProvider: { resolveProvider: false } };

export function supported(caps: ClientCapabilities): boolean {
  return !!caps.textDocument?.codeLens;
}

export function register(ctx: ServerContext): Disposable {
  const { connection } = ctx;
  const handler = connection.onCodeLens((params, token) => guarded(ctx, `code lenses for ${params.textDocument.uri}`, [], () => codeLenses(ctx, params, token)));
  const refresh = refreshOnIndexChange(ctx, !!ctx.clientCapabilities.workspace?.codeLens?.refreshSupport, () => connection.sendRequest(CodeLensRefreshRequest.type));
  return { dispose: () => (handler.dispose(), refresh.dispose()) };
}

export async function codeLenses(ctx: ServerContext, params: CodeLensParams, token?: CancellationToken): Promise<CodeLens[]> {
  const view = await fileView(ctx, params.textDocument.uri, token);
  if (!view || !view.settings.codeLens.enable) return [];
  return [...functionLenses(ctx, view), ...flagLenses(view)];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function showLocations(view: FileView, title: string, line: number, locations: Location[]): CodeLens {
  const position = toPosition(line, 1, view.doc);
  const args: ShowLocationsArgs = [view.uri, position, locations];
  return { range: { start: position, end: position }, command: { title, command: SHOW_LOCATIONS_COMMAND, arguments: args } };
}

function functionLenses(ctx: ServerContext, view: FileView): CodeLens[] {
  const byFunction = new Map<string, AtomicReport[]>();
  for (const a of view.lookup.atomicsByFile.get(view.rel) ?? []) {
    if (!a.function) continue;
    byFunction.set(a.function, [...(byFunction.get(a.function) ?? []), a]);
  }
  const definitions = new Map((ctx.index.facts(view.path)?.functions ?? []).map((f) => [f.name, f.line]));
  const lenses: CodeLens[] = [];
  for (const [fn, atomics] of byFunction) {
    const line = definitions.get(fn) ?? atomics[0].line;
    lenses.push(showLocations(view, atomicsTitle(atomics, view), line, atomics.map((a) => toLocation(view.root, a))));
  }
  return lenses.sort((a, b) => a.range.start.line - b.range.start.line);
}

/** `5 atomics: 3 telemetry (2 not compiled out) · 2 correctness`. */
export function atomicsTitle(atomics: AtomicReport[], view: Pick<FileView, 'lookup'>): string {
  const count = (c: AtomicReport['classification']) => atomics.filter((a) => a.classification === c);
  const telemetry = count('telemetry');
  const compiledIn = telemetry.filter((a) => !view.lookup.inactiveAt(a.file, a.line)).length;
  const parts: string[] = [];
  if (telemetry.length) parts.push(`${telemetry.length} telemetry (${compiledIn} not compiled out)`);
  if (count('correctness').length) parts.push(`${count('correctness').length} correctness`);
  if (count('unknown').length) parts.push(`${count('unknown').length} unknown`);
  return `${plural(atomics.length, 'atomic')}: ${parts.join(' · ')}`;
}

function flagLenses(view: FileView): CodeLens[] {
  const lenses: CodeLens[] = [];
  for (const flag of view.lookup.flags.values()) {
    if (flag.file !== view.rel) continue;
    const uses = flag.uses.map((u) => toLocation(view.root, { ...u, endLine: u.line, endColumn: (u.column ?? 1) + flag.name.length }));
    lenses.push(showLocations(view, `${plural(flag.uses.length, 'site')} · default ${flag.default ?? '?'}`, flag.line, uses));
    const at = toPosition(flag.line, 1, view.doc);
    const args: AbRunForFlagArgs = [{ folder: view.root, flag: flag.name }];
    lenses.push({ range: { start: at, end: at }, command: { title: 'A/B this flag', command: AB_RUN_FOR_FLAG_COMMAND, arguments: args } });
  }
  return lenses;
}
