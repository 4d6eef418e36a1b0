// Hovers: on an atomic its classification with the evidence as links to each read site, its
// temperature and why, its guard and gates; on a compile flag its default, uses and whether the
// build compiles it in; on an ENV gate (its name or the static caching it) its default, cache,
// what it gates and its value per profile.
import {
  MarkupKind,
  type CancellationToken,
  type ClientCapabilities,
  type Disposable,
  type Hover,
  type HoverParams,
  type ServerCapabilities,
} from 'vscode-languageserver/node';
import type { AtomicReport, EnvGateReport, FlagReport, SourceRef } from '../../core/analysis/report';
import { gateValueText } from '../../core/analysis/profiles';
import { atomicLabel, defaultLabel, fileView, gateIsOff, gateValue, type FileView } from '../analysisView';
import type { ServerContext } from '../context';
import { contains, markdownLink, toRange, wordAt } from '../positions';
import { guarded } from './shared';

export const capabilities: ServerCapabilities = { hoverProvider: true };

export function supported(caps: ClientCapabilities): boolean {
  return !!caps.textDocument?.hover;
}

export function register(ctx: ServerContext): Disposable {
  return ctx.connection.onHover((params, token) => guarded(ctx, `hover in ${params.textDocument.uri}`, null, () => hover(ctx, params, token)));
}

const MAX_LISTED = 20;

export async function hover(ctx: ServerContext, params: HoverParams, token?: CancellationToken): Promise<Hover | null> {
  const view = await fileView(ctx, params.textDocument.uri, token);
  if (!view || !view.settings.hover.enable || !view.doc) return null;
  const word = wordAt(view.doc, params.position);
  if (word) {
    const flag = view.lookup.flags.get(word.word);
    if (flag) return { contents: markdown(flagHover(flag, view)), range: word.range };
    const gate = view.lookup.gates.get(word.word) ?? view.lookup.gatesByCache.get(word.word);
    if (gate) return { contents: markdown(gateHover(gate, view)), range: word.range };
  }
  for (const a of view.lookup.atomicsByFile.get(view.rel) ?? []) {
    const range = toRange(a, view.doc);
    if (contains(range, params.position)) return { contents: markdown(atomicHover(a, view)), range };
  }
  return null;
}

function markdown(value: string) {
  return { kind: MarkupKind.Markdown, value };
}

/** Inline code that survives backticks and line breaks in C text. */
function code(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const short = flat.length > 100 ? `${flat.slice(0, 97)}...` : flat;
  return short.includes('`') ? `\`\` ${short} \`\`` : `\`${short}\``;
}

function link(view: FileView, ref: SourceRef): string {
  return `[${ref.file}:${ref.line}](${markdownLink(view.root, ref)})`;
}

function listed<T>(items: T[], line: (x: T) => string): string[] {
  const out = items.slice(0, MAX_LISTED).map((x) => `- ${line(x)}`);
  if (items.length > MAX_LISTED) out.push(`- … and ${items.length - MAX_LISTED} more`);
  return out;
}

function atomicHover(a: AtomicReport, view: FileView): string {
  const { lookup, settings } = view;
  const region = lookup.inactiveAt(a.file, a.line);
  const lines = [
    `**${atomicLabel(a, lookup)}**: ${a.op} on ${code(a.target)} (${code(a.callee)}${a.order ? `, ${code(a.order)}` : ''})${a.function ? ` in ${code(a.function)}` : ''}`,
    '',
    `**${a.classification}**: ${a.reason}`,
    '',
  ];
  if (a.evidence.length) {
    lines.push(`Evidence (${a.evidence.length} read${a.evidence.length > 1 ? 's' : ''}):`, '');
    lines.push(...listed(a.evidence, (e) => `${e.kind}${e.function ? ` in ${code(e.function)}` : ''}: ${link(view, e)}${e.text ? ` ${code(e.text)}` : ''}`));
    lines.push('');
  }
  lines.push(`**Temperature ${a.temperature}**: ${a.temperatureReason}`, '');
  if (a.guard) {
    const flag = lookup.flags.get(a.guard);
    lines.push(`**Guard** \`#if ${a.guard}\`${flag ? ` (default ${flag.default})` : ''}: ${region ? 'compiled out in the current build' : 'compiled in in the current build'}`);
  } else {
    lines.push('**Guard**: none, so it is compiled into every build');
  }
  if (a.gates.length) {
    lines.push('');
    const gates = a.gates.map((name) => {
      const g = lookup.gates.get(name);
      if (!g) return code(name);
      const active = settings.profile ? `, ${settings.profile}: ${gateValueText(g, gateValue(g, view).value)}` : '';
      return `${code(name)} (${defaultLabel(g)}${active})`;
    });
    lines.push(`**Gates**: ${gates.join(', ')}`);
    const off = a.gates.map((n) => lookup.gates.get(n)).filter((g): g is EnvGateReport => !!g && gateIsOff(g, view));
    if (off.length) {
      lines.push('', settings.profile ? `${off.map((g) => code(g.name)).join(', ')} is off under profile \`${settings.profile}\`: this path does not run in that configuration.` : `${off.map((g) => code(g.name)).join(', ')} is OFF by default: this path does not run in the default configuration.`);
    }
  }
  return lines.join('\n');
}

function flagHover(flag: FlagReport, view: FileView): string {
  const guarded = view.lookup.guarded.get(flag.name) ?? [];
  const telemetry = guarded.filter((a) => a.classification === 'telemetry').length;
  const build =
    flag.enabled === true
      ? 'The current build **compiles it in**'
      : flag.enabled === false
        ? 'The current build **compiles it out**'
        : 'Whether the current build compiles it in depends on macros the workspace does not define';
  const defines = view.settings.analysis.defines.length ? ` (defaults plus ${view.settings.analysis.defines.map(code).join(', ')})` : ' (the workspace defaults)';
  const lines = [
    `**${flag.name}**: compile flag, default ${code(flag.default ?? '(none)')} at ${link(view, flag)}`,
    '',
    `${build}${defines}.`,
    '',
    `Uses (${flag.uses.length}):`,
    '',
    ...listed(flag.uses, (u) => link(view, u)),
  ];
  if (guarded.length) lines.push('', `Guards ${guarded.length} atomic${guarded.length > 1 ? 's' : ''} (${telemetry} telemetry).`);
  return lines.join('\n');
}

function gateHover(g: EnvGateReport, view: FileView): string {
  const profile = view.settings.profile;
  const lines = [
    `**${g.name}**: ENV gate, ${defaultLabel(g)} (when unset)`,
    '',
    `Read${g.function ? ` in ${code(g.function)}` : ''} at ${link(view, g)}${g.cachedIn ? `, cached in ${code(g.cachedIn)}` : ', not cached'}.`,
    '',
  ];
  const selects = view.lookup.selectors.get(g.name);
  if (selects) lines.push(`Selects the profile: ${[...selects].map(code).join(', ')}${profile && selects.has(profile) ? ` (active: ${code(profile)})` : ''}.`, '');
  if (g.gatedFunctions.length) {
    lines.push(`Gates ${g.gatedFunctions.length} function${g.gatedFunctions.length > 1 ? 's' : ''} (${g.gatedAtomics.length} atomic${g.gatedAtomics.length === 1 ? '' : 's'}): ${g.gatedFunctions.slice(0, MAX_LISTED).map(code).join(', ')}${g.gatedFunctions.length > MAX_LISTED ? ', …' : ''}`, '');
  } else {
    lines.push('No function runs only under it.', '');
  }
  lines.push('| Profile | Value |', '|---|---|', `| (default) | ${gateValueText(g, g.defaultValue)} |`);
  for (const [p, v] of Object.entries(g.profiles)) lines.push(`| ${p}${p === profile ? ' (active)' : ''} | ${gateValueText(g, v)} |`);
  if (profile && g.profiles[profile] === undefined) lines.push('', `The active profile \`${profile}\` does not set it: the default applies.`);
  return lines.join('\n');
}
