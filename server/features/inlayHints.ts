// Inlay hints: at the end of each atomic's line what it is (`telemetry · hot`,
// `correctness (read in condition)`, `compiled out: X_COMPILED`), and after each getenv its
// default when unset plus its value under the active profile (`default OFF · fast: ON`).
import {
  MarkupKind,
  type CancellationToken,
  type ClientCapabilities,
  type Disposable,
  type InlayHint,
  type InlayHintParams,
  type ServerCapabilities,
} from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { AtomicReport, EnvGateReport } from '../../core/analysis/report';
import { gateValueText } from '../../core/analysis/profiles';
import { atomicLabel, defaultLabel, fileView, gateValue, type FileView } from '../analysisView';
import type { ServerContext } from '../context';
import { lineText, toPosition } from '../positions';
import { guarded, refreshOnIndexChange } from './shared';

export const capabilities: ServerCapabilities = { inlayHintProvider: { resolveProvider: false } };

export function supported(caps: ClientCapabilities): boolean {
  return !!caps.textDocument?.inlayHint;
}

export function register(ctx: ServerContext): Disposable {
  const { connection } = ctx;
  const handler = connection.languages.inlayHint.on((params, token) => guarded(ctx, `inlay hints for ${params.textDocument.uri}`, [], () => inlayHints(ctx, params, token)));
  // Any change can move another file's hints (a read in B reclassifies an atomic in A).
  const refresh = refreshOnIndexChange(ctx, !!ctx.clientCapabilities.workspace?.inlayHint?.refreshSupport, () => connection.languages.inlayHint.refresh());
  return { dispose: () => (handler.dispose(), refresh.dispose()) };
}

export async function inlayHints(ctx: ServerContext, params: InlayHintParams, token?: CancellationToken): Promise<InlayHint[]> {
  const view = await fileView(ctx, params.textDocument.uri, token);
  if (!view || !view.settings.inlayHints.enable) return [];
  const first = params.range.start.line + 1;
  const last = params.range.end.line + 1;
  const hints: InlayHint[] = [];
  for (const a of view.lookup.atomicsByFile.get(view.rel) ?? []) {
    if (a.endLine < first || a.line > last) continue;
    hints.push({
      position: endOfLine(a.endLine, a.endColumn, view.doc),
      label: atomicLabel(a, view.lookup),
      paddingLeft: true,
      tooltip: { kind: MarkupKind.Markdown, value: atomicTooltip(a) },
    });
  }
  const seen = new Set<string>();
  for (const { gate, line } of view.lookup.gateReadsByFile.get(view.rel) ?? []) {
    if (line < first || line > last || seen.has(`${gate.name}:${line}`)) continue;
    seen.add(`${gate.name}:${line}`);
    hints.push({
      position: afterName(gate.name, line, view.doc),
      label: gateLabel(gate, view),
      paddingLeft: true,
      tooltip: { kind: MarkupKind.Markdown, value: gateTooltip(gate, view) },
    });
  }
  return hints.sort((x, y) => x.position.line - y.position.line || x.position.character - y.position.character);
}

/** `default OFF`, `default OFF · fast: ON`; for a variable that selects profiles, `profile selector · fast`. */
export function gateLabel(g: EnvGateReport, view: Pick<FileView, 'lookup' | 'settings'>): string {
  const profile = view.settings.profile;
  const selects = view.lookup.selectors.get(g.name);
  if (selects && g.default === 'unknown') return `profile selector${selects.has(profile) ? ` · ${profile}` : ''}`;
  if (!profile) return defaultLabel(g);
  return `${defaultLabel(g)} · ${profile}: ${gateValueText(g, gateValue(g, view).value)}`;
}

function atomicTooltip(a: AtomicReport): string {
  return [`**${a.classification}** \`${a.target}\`: ${a.reason}`, `**${a.temperature}**: ${a.temperatureReason}`].join('\n\n');
}

function gateTooltip(g: EnvGateReport, view: FileView): string {
  const profiles = Object.entries(g.profiles).map(([p, v]) => `${p}: ${gateValueText(g, v)}`);
  const selects = view.lookup.selectors.get(g.name);
  return [
    selects ? `\`${g.name}\` selects a profile: ${[...selects].map((p) => `\`${p}\``).join(', ')}` : '',
    `\`${g.name}\` when unset: **${gateValueText(g, g.defaultValue)}**${g.cachedIn ? `, cached in \`${g.cachedIn}\`` : ''}`,
    profiles.length ? `Profiles: ${profiles.join(', ')}` : '',
    view.settings.profile && g.profiles[view.settings.profile] === undefined ? `Profile \`${view.settings.profile}\` does not set it: the default applies.` : '',
  ]
    .filter(Boolean)
    .join('\n\n');
}

/** The end of a 1-based line (the hint reads as a trailing note), or after the atomic without the text. */
function endOfLine(line: number, endColumn: number, doc?: TextDocument) {
  if (!doc) return toPosition(line, endColumn);
  return { line: line - 1, character: lineText(doc, line - 1).length };
}

/** Right after `"NAME"` (and the call's closing parenthesis when it follows), else the line's end. */
function afterName(name: string, line: number, doc?: TextDocument) {
  if (!doc) return toPosition(line, 1);
  const text = lineText(doc, line - 1);
  const at = text.indexOf(`"${name}"`);
  if (at < 0) return { line: line - 1, character: text.length };
  let end = at + name.length + 2;
  if (text[end] === ')') end++;
  return { line: line - 1, character: end };
}
