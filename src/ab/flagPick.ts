import * as vscode from 'vscode';
import { isCIdentifier } from '../../core/ab';
import type { AuditReport, FlagReport, Temperature } from '../../protocol/lsp';

export interface FlagChoice {
  flag: string;
  default: string | null;
  /** The hottest path among the telemetry atomics the flag guards (for the history table). */
  temperature?: Temperature;
}

const HEAT: Record<Temperature, number> = { hot: 3, warm: 2, cold: 1, unknown: 0 };

interface FlagItem extends vscode.QuickPickItem {
  choice?: FlagChoice;
}

function guarded(report: AuditReport | undefined, flag: FlagReport) {
  return report?.atomics.filter((a) => a.guard === flag.name) ?? [];
}

/** Flags that guard hot telemetry first: that is where an A/B pays off. */
export function flagItems(report: AuditReport): FlagItem[] {
  const scored = report.flags.map((f) => {
    const atomics = guarded(report, f);
    const heat = Math.max(0, ...atomics.map((a) => HEAT[a.temperature]));
    const temperature = (Object.keys(HEAT) as Temperature[]).find((t) => HEAT[t] === heat && heat > 0);
    const families = [...new Set(atomics.map((a) => a.family))];
    return { f, atomics, heat, temperature, families };
  });
  scored.sort((x, y) => y.heat - x.heat || y.atomics.length - x.atomics.length || y.f.uses.length - x.f.uses.length || x.f.name.localeCompare(y.f.name));
  return scored.map(({ f, atomics, temperature, families }) => ({
    label: f.name,
    description: `default ${f.default ?? 'not defined'} · ${f.uses.length} use${f.uses.length === 1 ? '' : 's'}`,
    detail: atomics.length
      ? `guards ${atomics.length} atomic${atomics.length === 1 ? '' : 's'}${temperature ? ` on a ${temperature} path` : ''}: ${families.slice(0, 3).join(', ')}${families.length > 3 ? ', …' : ''}`
      : `${f.file}:${f.line}`,
    choice: { flag: f.name, default: f.default, temperature },
  }));
}

/**
 * A quick pick of the index's flags. The user may also type any C identifier (a flag the index
 * has not seen, or when the server cannot answer).
 */
export function pickFlag(report: AuditReport | undefined, note?: string): Promise<FlagChoice | undefined> {
  const qp = vscode.window.createQuickPick<FlagItem>();
  qp.title = 'Alloc Lens: Run A/B for Flag';
  qp.placeholder = report ? 'Pick the compile flag to A/B (or type a flag name)' : `Type the flag name to A/B${note ? ` (${note})` : ''}`;
  // A multi-step flow: a toast or a task terminal taking focus must not throw the pick away.
  qp.ignoreFocusOut = true;
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  const base = report ? flagItems(report) : [];
  qp.items = base;
  qp.onDidChangeValue((value) => {
    const typed = value.trim();
    const known = base.some((i) => i.label === typed);
    qp.items = isCIdentifier(typed) && !known ? [...base, { label: typed, description: 'not in the index', alwaysShow: true, choice: { flag: typed, default: null } }] : base;
  });
  return new Promise((resolve) => {
    qp.onDidAccept(() => {
      resolve(qp.selectedItems[0]?.choice);
      qp.hide();
    });
    qp.onDidHide(() => {
      resolve(undefined);
      qp.dispose();
    });
    qp.show();
  });
}

interface ValuesItem extends vscode.QuickPickItem {
  values?: [string, string];
}

/**
 * A is the flag as it builds by default, B the other side: 0 vs 1 for a flag that defaults to
 * 0 (or to nothing), 1 vs 0 for a flag that defaults to 1. Anything else asks for B's value.
 */
export function defaultValues(def: string | null): [string, string] | undefined {
  if (def === null || def === '0') return ['0', '1'];
  if (def === '1') return ['1', '0'];
  return undefined;
}

export async function pickValues(choice: FlagChoice): Promise<[string, string] | undefined> {
  const first = defaultValues(choice.default);
  const items: ValuesItem[] = [];
  if (first) {
    items.push(
      { label: `A = ${first[0]}, B = ${first[1]}`, description: choice.default === null ? 'the flag has no default' : 'A is the default build', values: first },
      { label: `A = ${first[1]}, B = ${first[0]}`, values: [first[1], first[0]] },
    );
  }
  items.push({ label: 'Other values…', description: choice.default !== null && !first ? `default ${choice.default}` : undefined });
  const picked = items.length === 1 ? items[0] : await vscode.window.showQuickPick(items, { title: `A/B ${choice.flag}: variant values`, placeHolder: 'Values of the flag in A (baseline) and B', ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.values) return picked.values;
  const a = await vscode.window.showInputBox({ title: `A/B ${choice.flag}: value in A (baseline)`, value: choice.default ?? '0' });
  if (a === undefined) return undefined;
  const b = await vscode.window.showInputBox({ title: `A/B ${choice.flag}: value in B`, value: a === '0' ? '1' : '0', validateInput: (v) => (v === a ? 'B must differ from A' : undefined) });
  return b === undefined ? undefined : [a, b];
}

/**
 * The profiles (ENV presets) both variants run under: none, one, or all of them as a matrix
 * (every profile compared on its own). Skipped when no profiles are set. undefined = cancelled.
 */
export async function pickProfiles(profiles: string[]): Promise<string[] | undefined> {
  if (!profiles.length) return [];
  const none = { label: 'No profile', description: 'the default environment (clean of the allocator prefix)', names: [] as string[] };
  const all = { label: 'All profiles (matrix)', description: profiles.join(', '), names: profiles };
  const items = [none, ...profiles.map((p) => ({ label: p, names: [p] })), ...(profiles.length > 1 ? [all] : [])];
  const picked = await vscode.window.showQuickPick(items, { title: 'A/B: profile', placeHolder: 'ENV preset applied to both variants', ignoreFocusOut: true });
  return picked?.names;
}
