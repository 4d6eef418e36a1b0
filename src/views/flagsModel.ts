// The Flags & Gates tree as plain data: built from the server's audit report of each workspace
// folder, the active profile and the A/B profiles. Pure (no vscode): flagsView.ts turns these nodes
// into TreeItems, and the unit tier tests them on a fake report.
import * as path from 'node:path';
import type { AtomicReport, AuditReport, Classification, EnvGateReport, FlagReport, Temperature } from '../../protocol/lsp';
import { gateDefaultText, gateValueText, gateValueUnder, selectorProfiles, type AbProfiles } from '../../core/analysis/profiles';

export interface Source {
  /** Absolute file path. */
  path: string;
  /** 0-based, as VS Code positions. */
  line: number;
  character: number;
}

/**
 * One tree node. A node is also the argument the context-menu commands receive, so the fields
 * they read sit on it directly: `folder` + `flag` for `allocLens.abRunForFlag`, `uri` + `position`
 * for `allocLens.compileOut`.
 */
export interface FlagsNode {
  id: string;
  label: string;
  description?: string;
  /** Markdown. */
  tooltip?: string;
  /** A codicon id, optionally with a theme colour id. */
  icon?: { id: string; color?: string };
  /** Space-separated words the package.json menus match: `flag source`, `atomic telemetry source`, ... */
  contextValue: string;
  children?: FlagsNode[];
  expanded?: boolean;
  source?: Source;
  /** The workspace folder (file system path). */
  folder: string;
  flag?: string;
  /** LSP document URI and 0-based position of an atomic site. */
  uri?: string;
  position?: { line: number; character: number };
  /** The command a click runs when the node has no source to open (it gets the node). */
  command?: string;
}

export type FolderState =
  | { kind: 'loading'; indexing: boolean }
  | { kind: 'error'; message: string }
  | { kind: 'ready'; report: AuditReport };

export interface FolderInput {
  name: string;
  /** File system path of the workspace folder. */
  folder: string;
  profile: string;
  abProfiles: AbProfiles;
  state: FolderState;
}

export interface ModelOptions {
  /** An absolute path as the LSP document URI the server and the compile-out command use. */
  toUri(absPath: string): string;
}

const CLASSIFICATIONS: Classification[] = ['telemetry', 'correctness', 'unknown'];
const TEMPERATURES: Temperature[] = ['hot', 'warm', 'cold', 'unknown'];

const CLASS_ICON: Record<Classification, FlagsNode['icon']> = {
  telemetry: { id: 'graph-line', color: 'charts.blue' },
  correctness: { id: 'shield', color: 'charts.green' },
  unknown: { id: 'question', color: 'charts.yellow' },
};
const TEMP_ICON: Record<Temperature, FlagsNode['icon']> = {
  hot: { id: 'flame', color: 'charts.red' },
  warm: { id: 'flame', color: 'charts.orange' },
  cold: { id: 'circle-outline', color: 'charts.blue' },
  unknown: { id: 'question' },
};

const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;

/** Inline code in Markdown, safe for any text. */
export function code(text: string): string {
  const ticks = text.includes('`') ? '``' : '`';
  return `${ticks}${ticks.length > 1 ? ' ' : ''}${text}${ticks.length > 1 ? ' ' : ''}${ticks}`;
}

/** Escapes Markdown punctuation in plain text (reasons, messages). */
export function md(text: string): string {
  return text.replace(/([\\`*_[\]<>|])/g, '\\$1');
}

class Builder {
  private readonly ids = new Set<string>();

  constructor(private readonly opts: ModelOptions) {}

  /** Ids must be unique in the whole tree (they keep expansion across refreshes). */
  id(...parts: (string | number)[]): string {
    const base = parts.join('|');
    let id = base;
    for (let n = 2; this.ids.has(id); n++) id = `${base}#${n}`;
    this.ids.add(id);
    return id;
  }

  source(root: string, file: string, line: number, column = 1): Source {
    return { path: path.join(root, file), line: Math.max(0, line - 1), character: Math.max(0, column - 1) };
  }

  message(folder: string, key: string, label: string, icon: string, tooltip?: string, color?: string): FlagsNode {
    return { id: this.id(folder, 'message', key), label, tooltip, icon: { id: icon, color }, contextValue: 'message', folder };
  }

  folderNodes(f: FolderInput): FlagsNode[] {
    switch (f.state.kind) {
      case 'loading':
        return [
          this.message(
            f.folder,
            'loading',
            f.state.indexing ? 'Indexing C files…' : 'Loading the analysis…',
            'loading~spin',
            f.state.indexing ? 'The language server is indexing this folder; the flags, gates and atomics follow when it is done.' : 'Waiting for the language server\'s `allocLens/audit` answer.',
          ),
        ];
      case 'error':
        return [
          {
            ...this.message(f.folder, 'error', `Could not load the analysis: ${f.state.message}`, 'error', `${md(f.state.message)}\n\nClick for the log; **Refresh** tries again.`, 'errorForeground'),
            command: 'allocLens.showLog',
          },
        ];
      case 'ready':
        return [this.flags(f, f.state.report), this.gates(f, f.state.report), this.atomics(f, f.state.report)];
    }
  }

  /** The first row of a one-folder tree: the active profile, one click from the picker. */
  profile(f: FolderInput): FlagsNode {
    return {
      id: this.id(f.folder, 'profile'),
      label: 'Profile',
      description: f.profile || 'none (defaults)',
      tooltip: `Hints, hovers, gate dimming and this view describe ${f.profile ? `the ENV profile ${code(f.profile)}` : 'every ENV gate at its default'} (\`allocLens.profile\`). Click to pick another.`,
      icon: { id: 'layers' },
      contextValue: 'profile-picker',
      folder: f.folder,
      command: 'allocLens.selectProfile',
    };
  }

  // ---- compile flags ------------------------------------------------------------------------

  flags(f: FolderInput, r: AuditReport): FlagsNode {
    const out = r.flags.filter((x) => x.enabled === false).length;
    const children = r.flags.map((flag) => this.flag(f.folder, r, flag));
    return {
      id: this.id(f.folder, 'flags'),
      label: 'Compile flags',
      description: r.flags.length ? `${r.flags.length} · ${out} compiled out` : '0',
      tooltip: '`#ifndef X` / `#define X v` defaults and their `#if` uses, under the defaults plus `allocLens.analysis.defines`.',
      icon: { id: 'symbol-constant' },
      contextValue: 'group flags',
      folder: f.folder,
      expanded: true,
      children: children.length ? children : [this.message(f.folder, 'no-flags', 'No compile flags found', 'info', 'No `#ifndef X` / `#define X v` default was found in this folder.')],
    };
  }

  flag(folder: string, r: AuditReport, flag: FlagReport): FlagsNode {
    const state = flag.enabled === true ? 'compiled in' : flag.enabled === false ? 'compiled out' : 'in or out depends on other macros';
    const guarded = r.atomics.filter((a) => a.guard === flag.name);
    const telemetry = guarded.filter((a) => a.classification === 'telemetry').length;
    const tip = [
      `**${code(flag.name)}** — default ${flag.default === null ? 'never defined in the workspace' : code(flag.default)}, **${state}** in the current build`,
      `Defined at ${code(`${flag.file}:${flag.line}`)}; ${plural(flag.uses.length, 'use')} in \`#if\`/\`#ifdef\`.`,
      guarded.length ? `Guards ${plural(guarded.length, 'atomic')} (${telemetry} telemetry).` : '',
      '_Run A/B for This Flag_ compares the default build with the other value.',
    ].filter(Boolean);
    const icon = flag.enabled === true ? { id: 'pass', color: 'testing.iconPassed' } : flag.enabled === false ? { id: 'circle-slash', color: 'disabledForeground' } : { id: 'question' };
    return {
      id: this.id(folder, 'flag', flag.name),
      label: flag.name,
      description: `default ${flag.default ?? '—'} · ${plural(flag.uses.length, 'site')} · ${flag.enabled === null ? 'build-dependent' : state}`,
      tooltip: tip.join('\n\n'),
      icon,
      contextValue: 'flag source',
      source: this.source(r.root, flag.file, flag.line, flag.column),
      folder,
      flag: flag.name,
      children: flag.uses.map((u) => {
        const region = r.inactiveRegions.find((x) => x.file === u.file && x.startLine === u.line + 1 && x.condition.includes(flag.name));
        return {
          id: this.id(folder, 'flag', flag.name, 'site', u.file, u.line, u.column ?? 0),
          label: `${u.file}:${u.line}`,
          description: region ? `compiles out ${region.startLine === region.endLine ? `line ${region.startLine}` : `lines ${region.startLine}–${region.endLine}`}` : undefined,
          tooltip: `${code(flag.name)} used at ${code(`${u.file}:${u.line}`)}${region ? `; under the defaults ${code(region.condition)} excludes lines ${region.startLine}–${region.endLine}` : ''}`,
          icon: { id: 'location' },
          contextValue: 'site source',
          source: this.source(r.root, u.file, u.line, u.column),
          folder,
          flag: flag.name,
        };
      }),
    };
  }

  // ---- ENV gates ----------------------------------------------------------------------------

  gates(f: FolderInput, r: AuditReport): FlagsNode {
    const selectors = selectorProfiles(r);
    const children = r.envGates.map((g) => this.gate(f, r, g, selectors));
    const offNow = r.envGates.filter((g) => gateValueUnder(g, f.profile, f.abProfiles, selectors).value === '0').length;
    return {
      id: this.id(f.folder, 'gates'),
      label: 'ENV gates',
      description: r.envGates.length ? `${r.envGates.length} · ${offNow} off ${f.profile ? `under ${f.profile}` : 'by default'}` : '0',
      tooltip: `\`getenv()\` gates with their default when unset and their value under each profile. Active profile: ${f.profile ? code(f.profile) : 'none (the defaults)'}.`,
      icon: { id: 'symbol-event' },
      contextValue: 'group gates',
      folder: f.folder,
      expanded: true,
      children: children.length ? children : [this.message(f.folder, 'no-gates', 'No ENV gates found', 'info', 'No `getenv()` call (or wrapper) was found in this folder.')],
    };
  }

  gate(f: FolderInput, r: AuditReport, g: EnvGateReport, selectors: Map<string, Set<string>>): FlagsNode {
    const now = gateValueUnder(g, f.profile, f.abProfiles, selectors);
    const nowText = gateValueText(g, now.value);
    const off = now.value === '0';
    const icon =
      g.default === 'unknown' && now.source === 'default'
        ? { id: 'question' }
        : now.value !== null && !/^-?\d+$/.test(now.value)
          ? { id: 'symbol-string' }
          : off
          ? { id: 'circle-outline', color: 'disabledForeground' }
          : g.default === 'value' && now.value !== '1'
            ? { id: 'symbol-numeric' }
            : { id: 'circle-filled', color: 'charts.green' };
    const profileNames = [...new Set([...Object.keys(g.profiles), ...Object.keys(f.abProfiles).filter((p) => gateValueUnder(g, p, f.abProfiles).source !== 'default')])];
    if (f.profile && !profileNames.includes(f.profile)) profileNames.unshift(f.profile);
    const profileNodes = profileNames.map((p): FlagsNode => {
      const v = gateValueUnder(g, p, f.abProfiles, selectors);
      const from = v.source === 'settings' ? 'allocLens.ab.profiles' : v.source === 'preset' ? `${v.via ?? 'preset'}` : 'not set: the default';
      const active = p === f.profile;
      return {
        id: this.id(f.folder, 'gate', g.name, 'profile', p),
        label: `${p} = ${gateValueText(g, v.value)}`,
        description: `${from}${active ? ' · active' : ''}`,
        tooltip: `Under profile ${code(p)}, ${code(g.name)} is ${code(v.value ?? 'unknown')} (${md(from)}).${active ? '\n\nThis is the active profile (`allocLens.profile`).' : ''}`,
        icon: active ? { id: 'check', color: 'charts.green' } : { id: 'layers' },
        contextValue: v.preset ? 'profile source' : 'profile',
        source: v.preset ? this.source(r.root, v.preset.file, v.preset.line) : undefined,
        folder: f.folder,
      };
    });
    const gatedAt = new Set(g.gatedAtomics.map((a) => `${a.file}:${a.line}`));
    const fnNodes = g.gatedFunctions.map((fn): FlagsNode => {
      const inFn = r.atomics.filter((a) => a.function === fn);
      const gatedHere = inFn.filter((a) => gatedAt.has(`${a.file}:${a.line}`)).length;
      const site = inFn[0];
      return {
        id: this.id(f.folder, 'gate', g.name, 'fn', fn),
        label: fn,
        description: gatedHere ? `gated · ${plural(gatedHere, 'atomic')}` : 'gated',
        tooltip: `${code(fn)} runs only when ${code(g.name)} lets it.${site ? `\n\nOpens its first atomic, ${code(`${site.file}:${site.line}`)}.` : '\n\nThe report has no location for it.'}`,
        icon: { id: 'symbol-function' },
        contextValue: site ? 'function source' : 'function',
        source: site ? this.source(r.root, site.file, site.line, site.column) : undefined,
        folder: f.folder,
      };
    });
    const profilesTip = Object.entries(g.profiles).map(([p, v]) => `${code(p)}=${code(v)}`).join(' · ');
    return {
      id: this.id(f.folder, 'gate', g.name),
      label: g.name,
      description: `default ${gateDefaultText(g)}${f.profile ? ` · ${f.profile}: ${nowText}` : ''}`,
      tooltip: [
        `**${code(g.name)}** — default when unset: **${gateDefaultText(g)}**${f.profile ? `; under ${code(f.profile)}: **${nowText}**` : ''}`,
        `Read at ${code(`${g.file}:${g.line}`)}${g.function ? ` in ${code(g.function)}` : ''}${g.cachedIn ? `, cached in ${code(g.cachedIn)}` : ''}.`,
        profilesTip ? `Presets: ${profilesTip}` : 'No profile preset sets it.',
        g.gatedFunctions.length ? `Gates ${plural(g.gatedFunctions.length, 'function')} and ${plural(g.gatedAtomics.length, 'atomic')}.` : '',
      ]
        .filter(Boolean)
        .join('\n\n'),
      icon,
      contextValue: 'gate source',
      source: this.source(r.root, g.file, g.line, g.column),
      folder: f.folder,
      children: [...profileNodes, ...fnNodes],
    };
  }

  // ---- atomics ------------------------------------------------------------------------------

  atomics(f: FolderInput, r: AuditReport): FlagsNode {
    const byClass = CLASSIFICATIONS.map((c) => ({ c, list: r.atomics.filter((a) => a.classification === c) })).filter((x) => x.list.length);
    const telemetry = r.atomics.filter((a) => a.classification === 'telemetry').length;
    return {
      id: this.id(f.folder, 'atomics'),
      label: 'Atomics',
      description: r.atomics.length ? `${r.atomics.length} · ${telemetry} telemetry` : '0',
      tooltip: 'Atomic write sites by classification (telemetry: only printed; correctness: the program depends on the value) and by temperature.',
      icon: { id: 'pulse' },
      contextValue: 'group atomics',
      folder: f.folder,
      expanded: true,
      children: byClass.length
        ? byClass.map(({ c, list }) => ({
            id: this.id(f.folder, 'atomics', c),
            label: c,
            description: `${list.length}`,
            icon: CLASS_ICON[c],
            contextValue: `classification ${c}`,
            folder: f.folder,
            children: TEMPERATURES.map((t) => ({ t, sites: list.filter((a) => a.temperature === t) }))
              .filter((x) => x.sites.length)
              .map(({ t, sites }) => ({
                id: this.id(f.folder, 'atomics', c, t),
                label: t,
                description: `${sites.length}`,
                icon: TEMP_ICON[t],
                contextValue: `temperature ${t}`,
                folder: f.folder,
                children: [...sites].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column).map((a) => this.atomic(f.folder, r, a)),
              })),
          }))
        : [this.message(f.folder, 'no-atomics', 'No atomics found', 'info')],
    };
  }

  atomic(folder: string, r: AuditReport, a: AtomicReport): FlagsNode {
    const source = this.source(r.root, a.file, a.line, a.column);
    const evidence = a.evidence.slice(0, 5).map((e) => `- ${e.kind}: ${code(`${e.file}:${e.line}`)}${e.function ? ` in ${code(e.function)}` : ''}`);
    const fn = a.function ?? '(top level)';
    return {
      id: this.id(folder, 'atomic', a.file, a.line, a.column),
      label: a.target,
      description: `${fn} · ${path.basename(a.file)}:${a.line}${a.guard ? ` · #if ${a.guard}` : ''}`,
      tooltip: [
        `**${code(a.target)}** — ${a.op} (${code(a.callee)}${a.order ? `, ${code(a.order)}` : ''}) in ${code(fn)} at ${code(`${a.file}:${a.line}`)}`,
        `**${a.classification}**: ${md(a.reason)}`,
        `**${a.temperature}**: ${md(a.temperatureReason)}`,
        a.guard ? `Already under ${code(`#if ${a.guard}`)}.` : 'Not under any `#if`.',
        a.gates.length ? `Runs only when ${a.gates.map(code).join(', ')} let it.` : '',
        evidence.length ? `Reads (${a.evidence.length}):\n${evidence.join('\n')}${a.evidence.length > evidence.length ? '\n- …' : ''}` : '',
      ]
        .filter(Boolean)
        .join('\n\n'),
      icon: TEMP_ICON[a.temperature],
      contextValue: `atomic ${a.classification}${a.guard ? ' guarded' : ''} source`,
      source,
      folder,
      uri: this.opts.toUri(source.path),
      position: { line: source.line, character: source.character },
    };
  }
}

/**
 * The whole tree: the three groups for one folder, or one node per folder when there are
 * several. No folders gives no nodes (the view's welcome content explains).
 */
export function buildTree(folders: FolderInput[], opts: ModelOptions): FlagsNode[] {
  const b = new Builder(opts);
  if (folders.length === 1) return [b.profile(folders[0]), ...b.folderNodes(folders[0])];
  return folders.map((f) => ({
    id: b.id(f.folder),
    label: f.name,
    description: f.profile ? `profile: ${f.profile}` : undefined,
    tooltip: `${code(f.folder)}\n\nActive profile: ${f.profile ? code(f.profile) : 'none (the defaults)'}`,
    icon: { id: 'root-folder' },
    contextValue: 'folder',
    folder: f.folder,
    expanded: true,
    children: b.folderNodes(f),
  }));
}

/** The view's description: the active profile (one for all folders, or per folder). */
export function profileDescription(folders: Pick<FolderInput, 'name' | 'profile'>[]): string {
  const distinct = [...new Set(folders.map((f) => f.profile))];
  if (distinct.length === 0) return '';
  if (distinct.length === 1) return distinct[0] ? `profile: ${distinct[0]}` : 'profile: defaults';
  return 'profile: per folder';
}
