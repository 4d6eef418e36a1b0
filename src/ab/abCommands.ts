// The A/B commands: pick what to compare, run it through the engine with a cancellable progress
// notification, show it live in the results panel, export reports.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { csvReport, markdownReport, readHistory, validateConfig, type ExperimentConfig, type ExperimentResult } from '../../core/ab';
import { nodeAbFileSystem } from '../../core/host/abHost';
import type { AuditReport } from '../../protocol/lsp';
import type { ExportFormat } from '../../protocol/ab';
import type { Ctx } from '../ctx';
import { AbPanel } from '../panels/abPanel';
import { AbRequestError, buildExperiment, type AbRequest } from './abConfig';
import { abSettings } from './abSettings';
import { verdictLine } from './abText';
import { pickFlag, pickProfiles, pickValues } from './flagPick';

async function pickFolder(hint?: string): Promise<string | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (hint) return hint;
  if (folders.length === 0) {
    void vscode.window.showWarningMessage('Alloc Lens: open the allocator folder first: A/B experiments run in a workspace folder.');
    return undefined;
  }
  if (folders.length === 1) return folders[0].uri.fsPath;
  const editorFolder = vscode.window.activeTextEditor && vscode.workspace.getWorkspaceFolder(vscode.window.activeTextEditor.document.uri);
  const picked = editorFolder ?? (await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Folder to run the A/B experiment in' }));
  return picked?.uri.fsPath;
}

/** One experiment per folder: say so, and offer to show or cancel the running one. */
function refuseWhenBusy(ctx: Ctx, folder: string): boolean {
  if (!ctx.ab.isRunning(folder)) return false;
  void vscode.window
    .showWarningMessage(`Alloc Lens: an A/B experiment is already running in ${path.basename(folder)}. One at a time per folder, so that runs do not measure each other.`, 'Show Results', 'Cancel It')
    .then((pick) => {
      if (pick === 'Show Results') AbPanel.createOrShow(ctx, folder);
      if (pick === 'Cancel It') ctx.ab.cancel(folder);
    });
  return true;
}

function progressMessage(pairs: number, maxPairs: number, result: { deltaPct: number | null; ci: [number, number] | null; verdict: string } | undefined): string {
  const head = result?.deltaPct !== null && result?.deltaPct !== undefined ? ` · Δ ${result.deltaPct >= 0 ? '+' : ''}${result.deltaPct.toFixed(2)}%${result.ci ? ` [${result.ci[0].toFixed(2)}, ${result.ci[1].toFixed(2)}]` : ''} · ${result.verdict}` : '';
  return `pair ${pairs} of at most ${maxPairs}${head}`;
}

/** Runs with the live panel and a progress notification whose Cancel aborts the engine. */
export async function runWithProgress(ctx: Ctx, config: ExperimentConfig): Promise<ExperimentResult | undefined> {
  if (refuseWhenBusy(ctx, config.folder)) return undefined;
  const problems = validateConfig(config);
  if (problems.length) throw new AbRequestError(`the experiment is not valid: ${problems.join('; ')}`);
  AbPanel.createOrShow(ctx, config.folder);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `A/B ${config.flag ?? config.name}`, cancellable: true },
    async (progress, token) => {
      const controller = new AbortController();
      const cancel = token.onCancellationRequested(() => controller.abort());
      let reported = 0;
      const sub = ctx.ab.onDidEvent(({ folder, event }) => {
        if (folder !== config.folder) return;
        if (event.type === 'buildStarted') progress.report({ message: `building ${event.variant}…` });
        else if (event.type === 'runStarted' && event.warmup) progress.report({ message: `warming up ${event.variant}…` });
        else if (event.type === 'stats') {
          const done = Math.min(100, (event.pairs / Math.max(1, event.maxPairs)) * 100);
          progress.report({ message: progressMessage(event.pairs, event.maxPairs, event.cells[0]), increment: done - reported });
          reported = done;
        }
      });
      try {
        return await ctx.ab.run(config, controller.signal);
      } finally {
        sub.dispose();
        cancel.dispose();
      }
    },
  );
  void notifyResult(ctx, result);
  return result;
}

async function notifyResult(ctx: Ctx, result: ExperimentResult): Promise<void> {
  const text = `Alloc Lens: ${verdictLine(result)}`;
  const show = result.status === 'failed' ? vscode.window.showErrorMessage : result.status === 'cancelled' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  const pick = await show(text, 'Show Results', 'Export Report');
  if (pick === 'Show Results') AbPanel.createOrShow(ctx, result.config.folder, result.id);
  if (pick === 'Export Report') await exportReport(ctx, { folder: result.config.folder, resultId: result.id });
}

async function auditOrUndefined(ctx: Ctx, folder: string): Promise<{ report?: AuditReport; note?: string }> {
  try {
    return { report: await ctx.audit(vscode.Uri.file(folder).toString()) };
  } catch (err) {
    const note = err instanceof Error ? err.message : String(err);
    ctx.log.warn(`A/B: no flags from the language server (${note}); asking for the flag name`);
    return { note: 'the language server could not list the flags' };
  }
}

/** "Run A/B for Flag…": a flag from the index (or `arg.flag`), its two values, a profile. */
export async function runForFlag(ctx: Ctx, arg?: { folder?: string; flag?: string }): Promise<ExperimentResult | undefined> {
  const folder = await pickFolder(arg?.folder);
  if (!folder || refuseWhenBusy(ctx, folder)) return undefined;
  const { report, note } = await auditOrUndefined(ctx, folder);
  const known = arg?.flag ? report?.flags.find((f) => f.name === arg.flag) : undefined;
  const choice = arg?.flag ? { flag: arg.flag, default: known?.default ?? null } : await pickFlag(report, note);
  if (!choice) return undefined;
  const values = await pickValues(choice);
  if (!values) return undefined;
  const settings = abSettings(folder);
  const profiles = await pickProfiles(Object.keys(settings.profiles));
  if (!profiles) return undefined;
  const temperature = report?.atomics.filter((a) => a.guard === choice.flag).map((a) => a.temperature);
  const req: AbRequest = {
    flag: choice.flag,
    a: values[0],
    b: values[1],
    profiles,
    temperature: (['hot', 'warm', 'cold'] as const).find((t) => temperature?.includes(t)),
  };
  return runWithProgress(ctx, buildExperiment(folder, req, settings));
}

function parseAssignments(text: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const part of text.split(/\s+/).filter(Boolean)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(part);
    if (!m) return `"${part}" is not NAME=VALUE`;
    out[m[1]] = m[2] ?? '1';
  }
  return out;
}

/** Asks for `NAME=VALUE ...`; undefined when dismissed. */
async function askAssignments(title: string, prompt: string, placeHolder: string): Promise<Record<string, string> | undefined> {
  const text = await vscode.window.showInputBox({
    title,
    prompt,
    placeHolder,
    validateInput: (v) => {
      const r = parseAssignments(v);
      return typeof r === 'string' ? r : undefined;
    },
  });
  if (text === undefined) return undefined;
  const parsed = parseAssignments(text);
  return typeof parsed === 'string' ? undefined : parsed;
}

/** "Run A/B…": a JSON experiment file (a full ExperimentConfig or an allocLens.ab task definition), or a few questions. */
export async function runFull(ctx: Ctx, arg?: { folder?: string }): Promise<ExperimentResult | undefined> {
  const folder = await pickFolder(arg?.folder);
  if (!folder || refuseWhenBusy(ctx, folder)) return undefined;
  const source = await vscode.window.showQuickPick(
    [
      { label: 'Describe variant B', description: 'defines and ENV against the default build', id: 'ask' },
      { label: 'Open an experiment file…', description: 'JSON: a full experiment config, or the properties of an allocLens.ab task', id: 'file' },
    ],
    { title: 'Alloc Lens: Run A/B' },
  );
  if (!source) return undefined;
  const settings = abSettings(folder);
  if (source.id === 'file') {
    const files = await vscode.window.showOpenDialog({ defaultUri: vscode.Uri.file(folder), canSelectMany: false, filters: { 'Experiment JSON': ['json'] }, title: 'A/B experiment file' });
    if (!files?.[0]) return undefined;
    let data: unknown;
    try {
      data = JSON.parse(await fs.readFile(files[0].fsPath, 'utf8'));
    } catch (err) {
      throw new AbRequestError(`${files[0].fsPath} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    const config = isFullConfig(data) ? { ...data, folder: path.resolve(folder, data.folder ?? '.') } : buildExperiment(folder, data as AbRequest, settings);
    return runWithProgress(ctx, config);
  }
  const defines = await askAssignments('A/B: -D defines of variant B', 'Space-separated NAME=VALUE (empty for none). A builds with the defaults.', 'QUILL_FREE_STATS_COMPILED=1');
  if (!defines) return undefined;
  const env = await askAssignments('A/B: ENV of variant B', "Space-separated NAME=VALUE (empty for none), applied to B's runs only.", 'QUILL_RING_ENABLED=1');
  if (!env) return undefined;
  const metric = await vscode.window.showQuickPick(
    [
      { label: 'throughput', description: 'the benchmark\'s ops/s (higher is better)' },
      { label: 'wall', description: 'wall time (lower is better)' },
      { label: 'instructions', description: 'callgrind Ir: deterministic, for small deltas' },
    ],
    { title: 'A/B: metric' },
  );
  if (!metric) return undefined;
  const profiles = await pickProfiles(Object.keys(settings.profiles));
  if (!profiles) return undefined;
  const req: AbRequest = {
    defines,
    env,
    metric: metric.label as AbRequest['metric'],
    profiles,
  };
  return runWithProgress(ctx, buildExperiment(folder, req, settings));
}

function isFullConfig(data: unknown): data is ExperimentConfig {
  return typeof data === 'object' && data !== null && Array.isArray((data as ExperimentConfig).variants) && typeof (data as ExperimentConfig).run === 'object';
}

export async function rerunLast(ctx: Ctx): Promise<ExperimentResult | undefined> {
  const last = ctx.ab.lastConfig();
  if (!last) {
    const pick = await vscode.window.showInformationMessage('Alloc Lens: no A/B experiment has run in this workspace yet.', 'Run A/B for Flag…');
    if (pick) return runForFlag(ctx);
    return undefined;
  }
  return runWithProgress(ctx, last);
}

export async function showResults(ctx: Ctx, arg?: { folder?: string; resultId?: string }): Promise<void> {
  const folder = await pickFolder(arg?.folder);
  if (folder) AbPanel.createOrShow(ctx, folder, arg?.resultId);
}

/** "Export A/B Report…": Markdown in the shape of the seeds' PHASE results documents, or CSV of every run. */
export async function exportReport(ctx: Ctx, arg?: { folder?: string; resultId?: string; format?: ExportFormat }): Promise<vscode.Uri | undefined> {
  const folder = await pickFolder(arg?.folder);
  if (!folder) return undefined;
  const result = await ctx.ab.loadResult(folder, arg?.resultId);
  if (!result) {
    void vscode.window.showInformationMessage('Alloc Lens: there is no A/B result to export yet in this folder.');
    return undefined;
  }
  const format =
    arg?.format ??
    (
      await vscode.window.showQuickPick(
        [
          { label: 'Markdown report', description: 'setup, A/B table, verdict and reasoning, raw data', format: 'markdown' as const },
          { label: 'CSV', description: 'every run with its order, variant, value and exit', format: 'csv' as const },
        ],
        { title: `Export ${result.id}` },
      )
    )?.format;
  if (!format) return undefined;
  const ext = format === 'markdown' ? 'md' : 'csv';
  const target = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.file(path.join(folder, `${result.id}.${ext}`)),
    filters: format === 'markdown' ? { Markdown: ['md'] } : { CSV: ['csv'] },
    title: `Export the A/B ${format === 'markdown' ? 'report' : 'runs'}`,
  });
  if (!target) return undefined;
  const text = format === 'markdown' ? markdownReport(result, await readHistory(nodeAbFileSystem, folder)) : csvReport(result);
  await vscode.workspace.fs.writeFile(target, Buffer.from(text, 'utf8'));
  ctx.log.info(`A/B ${result.id}: exported ${format} to ${target.fsPath}`);
  const pick = await vscode.window.showInformationMessage(`Alloc Lens: exported ${path.basename(target.fsPath)}`, 'Open');
  if (pick) await vscode.window.showTextDocument(target);
  return target;
}
