// "Alloc Lens: Select Profile…": which ENV profile the hints, hovers, gate dimming and the Flags &
// Gates view describe. Writes `allocLens.profile` (per folder), and keeps the status bar's
// tooltip saying which profile is active.
import * as vscode from 'vscode';
import type { AuditReport } from '../../protocol/lsp';
import { readSettings } from '../config';
import type { Ctx } from '../ctx';
import { profileChoices, type AbProfiles } from '../../core/analysis/profiles';

interface ProfileItem extends vscode.QuickPickItem {
  profile: string;
}

interface Target {
  folders: vscode.WorkspaceFolder[];
  /** Where the setting is written: one folder's settings, the workspace's, or the user's when no folder is open. */
  configTarget: vscode.ConfigurationTarget;
}

const NONE_LABEL = '(none — defaults)';

/** One folder: its settings. Several: the folder the item or editor belongs to, or ask (all folders = the workspace setting). */
async function pickTarget(arg: unknown): Promise<Target | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) return { folders: [], configTarget: vscode.ConfigurationTarget.Global };
  if (folders.length === 1) return { folders: [...folders], configTarget: vscode.ConfigurationTarget.WorkspaceFolder };
  const hinted = typeof (arg as { folder?: unknown })?.folder === 'string' ? folders.find((f) => f.uri.fsPath === (arg as { folder: string }).folder) : undefined;
  if (hinted) return { folders: [hinted], configTarget: vscode.ConfigurationTarget.WorkspaceFolder };
  const items: (vscode.QuickPickItem & { target: Target })[] = [
    { label: 'All folders', description: 'workspace setting', target: { folders: [...folders], configTarget: vscode.ConfigurationTarget.Workspace } },
    ...folders.map((f) => ({
      label: f.name,
      description: `current: ${readSettings(f.uri).settings.profile || 'defaults'}`,
      target: { folders: [f], configTarget: vscode.ConfigurationTarget.WorkspaceFolder },
    })),
  ];
  return (await vscode.window.showQuickPick(items, { title: 'Alloc Lens: Select Profile', placeHolder: 'Set the profile for which folder?' }))?.target;
}

async function reportsFor(ctx: Ctx, folders: vscode.WorkspaceFolder[]): Promise<{ reports: AuditReport[]; note?: string }> {
  const reports: AuditReport[] = [];
  let note: string | undefined;
  for (const f of folders) {
    const cached = ctx.flags.report(f.uri.fsPath);
    if (cached) {
      reports.push(cached);
      continue;
    }
    try {
      reports.push(await ctx.audit(f.uri.toString()));
    } catch (err) {
      note = 'the language server could not list the code\'s presets; only allocLens.ab.profiles are offered';
      ctx.log.warn(`Select Profile: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { reports, note };
}

export async function selectProfile(ctx: Ctx, arg?: unknown): Promise<string | undefined> {
  const target = await pickTarget(arg);
  if (!target) return undefined;
  const scope = target.configTarget === vscode.ConfigurationTarget.WorkspaceFolder ? target.folders[0].uri : undefined;
  const settings = readSettings(scope).settings;
  const active = settings.profile;
  const abProfiles: AbProfiles = {};
  for (const f of target.folders.length ? target.folders : [undefined]) Object.assign(abProfiles, readSettings(f?.uri).settings.ab.profiles);

  const qp = vscode.window.createQuickPick<ProfileItem>();
  qp.title = 'Alloc Lens: Select Profile';
  qp.placeholder = 'Loading the profiles the code defines…';
  qp.busy = true;
  qp.matchOnDescription = true;
  const accepted = new Promise<ProfileItem | undefined>((resolve) => {
    qp.onDidAccept(() => resolve(qp.selectedItems[0]));
    qp.onDidHide(() => resolve(undefined));
  });
  qp.show();
  const { reports, note } = await reportsFor(ctx, target.folders);
  const choices = profileChoices(reports, abProfiles, active);
  const base: ProfileItem[] = [
    { label: `${active ? '' : '$(check) '}${NONE_LABEL}`, description: active ? undefined : 'active', detail: 'Every ENV gate at its default (unset)', profile: '' },
    ...choices.map((c) => ({
      label: `${c.active ? '$(check) ' : ''}${c.name}`,
      description: [c.active ? 'active' : '', c.unknown ? 'not defined in the code or allocLens.ab.profiles' : c.sources.join(', ')].filter(Boolean).join(' · '),
      detail: c.unknown ? undefined : `sets ${c.gates} ENV gate${c.gates === 1 ? '' : 's'}`,
      profile: c.name,
    })),
  ];
  qp.items = base;
  qp.activeItems = base.filter((i) => i.profile === active);
  qp.placeholder = note ? `Pick the active profile (${note})` : 'Pick the profile hints, hovers and dimming describe (or type a name)';
  qp.busy = false;
  qp.onDidChangeValue((value) => {
    const typed = value.trim();
    qp.items = typed && !base.some((i) => i.profile === typed) ? [...base, { label: typed, description: 'a profile name of your own', alwaysShow: true, profile: typed }] : base;
  });
  const picked = await accepted;
  qp.dispose();
  if (!picked) return undefined;
  const cfg = vscode.workspace.getConfiguration('allocLens', scope);
  await cfg.update('profile', picked.profile, target.configTarget);
  ctx.log.info(`profile set to ${picked.profile || '(none)'} (${vscode.ConfigurationTarget[target.configTarget]})`);
  return picked.profile;
}

/** Keeps the status bar's tooltip naming the active profile. */
export function registerProfileStatus(ctx: Ctx): vscode.Disposable {
  const update = () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const profiles = [...new Set((folders.length ? folders.map((f) => f.uri) : [undefined]).map((uri) => readSettings(uri).settings.profile))];
    ctx.statusBar.setProfile(profiles.length === 1 ? profiles[0] || undefined : profiles.map((p) => p || 'defaults').join(' / '));
  };
  update();
  return vscode.Disposable.from(
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('allocLens.profile') && update()),
    vscode.workspace.onDidChangeWorkspaceFolders(update),
  );
}
