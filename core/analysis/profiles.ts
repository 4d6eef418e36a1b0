// ENV profiles: the names the code's presets define (envGates[].profiles) plus
// `allocLens.ab.profiles`, and the value a gate takes under one of them. One definition for the
// server's hints, hovers and gate dimming and for the client's Flags & Gates view and picker.
import type { AuditReport, EnvGateReport } from './report';

/** `allocLens.ab.profiles`: profile name → ENV it sets. */
export type AbProfiles = Record<string, Record<string, string>>;

/** A set-if-unset preset site: `QUILL_MODE=fast` sets the gate to `value` at file:line. */
export interface Preset {
  selector: string | null;
  profile: string;
  value: string;
  file: string;
  line: number;
}

/** The gate's preset sites (`presets`, an optional field of the report). */
export function presetsOf(gate: EnvGateReport): Preset[] {
  return gate.presets ?? [];
}

export interface GateValue {
  /** The value the gate's parser sees; null when the default is unknown. */
  value: string | null;
  /** `default`: nothing sets it under this profile; `preset`: the code's preset; `settings`: allocLens.ab.profiles. */
  source: 'default' | 'preset' | 'settings';
  /** For a preset: the selector assignment that chose it (`QUILL_MODE=fast`), when known. */
  via?: string;
  preset?: Preset;
}

/** Selector variables (QUILL_MODE) → the profiles their presets define, across the report's gates. */
export function selectorProfiles(report: Pick<AuditReport, 'envGates'>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const g of report.envGates) for (const p of presetsOf(g)) if (p.selector) out.set(p.selector, (out.get(p.selector) ?? new Set()).add(p.profile));
  return out;
}

/**
 * The gate's value under `profile` ('' = no profile: every gate at its default). `selectors`
 * (from selectorProfiles) lets a selector variable itself read as the profile it selects.
 */
export function gateValueUnder(gate: EnvGateReport, profile: string, abProfiles: AbProfiles, selectors?: Map<string, Set<string>>): GateValue {
  const byDefault: GateValue = { value: gate.defaultValue, source: 'default' };
  if (!profile) return byDefault;
  const env = abProfiles[profile];
  if (env && Object.hasOwn(env, gate.name)) return { value: env[gate.name], source: 'settings' };
  if (selectors?.get(gate.name)?.has(profile)) return { value: profile, source: 'preset', via: `${gate.name}=${profile}` };
  const presets = presetsOf(gate);
  // A settings profile that sets a selector (QUILL_MODE=fast) picks that preset of the code.
  if (env) {
    for (const [k, v] of Object.entries(env)) {
      const p = presets.find((x) => x.selector === k && x.profile === v);
      if (p) return { value: p.value, source: 'preset', via: `${k}=${v}`, preset: p };
    }
  }
  if (Object.hasOwn(gate.profiles, profile)) {
    const p = presets.find((x) => x.profile === profile);
    return { value: gate.profiles[profile], source: 'preset', via: p?.selector ? `${p.selector}=${profile}` : undefined, preset: p };
  }
  return byDefault;
}

/** How a gate's value reads: ON/OFF for flag-like gates, the number otherwise. */
export function gateValueText(gate: EnvGateReport, value: string | null): string {
  if (value === null) return 'unknown';
  if (gate.default === 'on' || gate.default === 'off') {
    if (value === '0') return 'OFF';
    if (value === '1') return 'ON';
  }
  return value;
}

export function gateDefaultText(gate: EnvGateReport): string {
  switch (gate.default) {
    case 'on':
      return 'ON';
    case 'off':
      return 'OFF';
    case 'value':
      return gate.defaultValue ?? 'unknown';
    default:
      return 'unknown';
  }
}

export interface ProfileChoice {
  name: string;
  /** Where the name comes from, e.g. `QUILL_MODE preset`, `allocLens.ab.profiles`. */
  sources: string[];
  /** How many gates it gives a value other than their default's source (presets or settings). */
  gates: number;
  active: boolean;
  /** The active profile is set but nothing defines it (a typo, or code that changed). */
  unknown?: boolean;
}

/**
 * Every profile the picker offers: the code's presets (in source order, across folders), then
 * the settings' profiles, and the active one even when nothing defines it any more.
 */
export function profileChoices(reports: AuditReport[], abProfiles: AbProfiles, active: string): ProfileChoice[] {
  const byName = new Map<string, { order: [string, number]; sources: Set<string>; gates: Set<string> }>();
  const entry = (name: string, order: [string, number]) => {
    let e = byName.get(name);
    if (!e) byName.set(name, (e = { order, sources: new Set(), gates: new Set() }));
    else if (compareOrder(order, e.order) < 0) e.order = order;
    return e;
  };
  for (const report of reports) {
    for (const gate of report.envGates) {
      const presets = presetsOf(gate);
      for (const name of Object.keys(gate.profiles)) {
        const sites = presets.filter((p) => p.profile === name);
        const first = sites.reduce<[string, number]>((best, p) => (compareOrder([p.file, p.line], best) < 0 ? [p.file, p.line] : best), ['\uffff', 0]);
        const e = entry(name, first);
        const selectors = [...new Set(sites.map((p) => p.selector).filter((s): s is string => !!s))];
        for (const s of selectors.length ? selectors : [null]) e.sources.add(s ? `${s} preset` : 'preset');
        e.gates.add(gate.name);
      }
    }
  }
  for (const [name, env] of Object.entries(abProfiles)) {
    const e = entry(name, ['\uffff\uffff', 0]);
    e.sources.add('allocLens.ab.profiles');
    for (const report of reports) for (const gate of report.envGates) if (gateValueUnder(gate, name, abProfiles).source !== 'default') e.gates.add(gate.name);
    for (const k of Object.keys(env)) if (!reports.length) e.gates.add(k);
  }
  const out = [...byName.entries()]
    .sort(([an, a], [bn, b]) => compareOrder(a.order, b.order) || an.localeCompare(bn))
    .map(([name, e]): ProfileChoice => {
      // A bare "preset" (a gate without preset sites) adds nothing next to "QUILL_MODE preset".
      const sources = [...e.sources].filter((s, _, all) => s !== 'preset' || !all.some((o) => o.endsWith(' preset')));
      return { name, sources, gates: e.gates.size, active: name === active };
    });
  if (active && !byName.has(active)) out.push({ name: active, sources: [], gates: 0, active: true, unknown: true });
  return out;
}

function compareOrder(a: [string, number], b: [string, number]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1];
}
