// Tasks of type `allocLens.ab`: experiments that live in tasks.json. A CustomExecution runs the
// engine in the extension host and a pseudoterminal shows its progress and the verdict table.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readHistory, type ExperimentEvent } from '../../core/ab';
import { nodeAbFileSystem } from '../../core/host/abHost';
import type { Ctx } from '../ctx';
import { AbRequestError, buildExperiment, EXIT, exitCodeOf, taskName, type AbRequest } from './abConfig';
import { abSettings } from './abSettings';
import { statsLine, verdictLine, verdictTable } from './abText';
import { explainUntrusted } from '../trust';

export const AB_TASK_TYPE = 'allocLens.ab';

export interface AbTaskDefinition extends vscode.TaskDefinition, AbRequest {
  type: typeof AB_TASK_TYPE;
}

const CSI = '\x1b[';
const bold = (s: string) => `${CSI}1m${s}${CSI}0m`;
const colour = (code: number, s: string) => `${CSI}${code}m${s}${CSI}0m`;
const VERDICT_COLOUR: Record<string, number> = { 'GO': 32, 'NO-GO': 31, 'NEUTRAL': 33, 'INCONCLUSIVE': 36 };

/** The terminal of one task run: starts the experiment on open, cancels on Ctrl-C or close. */
export class AbTerminal implements vscode.Pseudoterminal {
  private readonly writer = new vscode.EventEmitter<string>();
  private readonly closer = new vscode.EventEmitter<number>();
  readonly onDidWrite = this.writer.event;
  readonly onDidClose = this.closer.event;
  private readonly controller = new AbortController();
  private subscription?: vscode.Disposable;

  constructor(
    private readonly ctx: Ctx,
    private readonly folder: string,
    private readonly def: AbTaskDefinition,
  ) {}

  private line(text = ''): void {
    this.writer.fire(`${text.replace(/\r?\n/g, '\r\n')}\r\n`);
  }

  open(): void {
    void this.start();
  }

  private async start(): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      this.line(colour(31, 'Alloc Lens does not run builds or benchmarks in a restricted workspace. Trust this folder to run A/B tasks.'));
      void explainUntrusted();
      return this.finish(EXIT.usage);
    }
    let config;
    try {
      config = buildExperiment(this.folder, this.def, abSettings(this.folder));
    } catch (err) {
      this.line(colour(31, `Alloc Lens: ${err instanceof AbRequestError || err instanceof Error ? err.message : String(err)}`));
      return this.finish(EXIT.usage);
    }
    if (this.ctx.ab.isRunning(this.folder)) {
      this.line(colour(31, `An A/B experiment is already running in ${path.basename(this.folder)}: one at a time per folder. Cancel it or wait.`));
      return this.finish(EXIT.usage);
    }
    this.line(bold(`${taskName(this.def)} in ${this.folder}`));
    this.line(`margin ±${config.marginPct}% · ${config.minPairs}–${config.maxPairs} pairs · budget ${Math.round(config.budgetMs / 1000)} s · Ctrl-C cancels`);
    this.subscription = this.ctx.ab.onDidEvent(({ folder, event }) => {
      if (folder === this.folder) this.onEvent(event);
    });
    try {
      const result = await this.ctx.ab.run(config, this.controller.signal);
      this.line();
      for (const row of verdictTable(result)) this.line(row);
      this.line();
      this.line(bold(colour(VERDICT_COLOUR[result.verdict] ?? 0, verdictLine(result))));
      for (const w of result.warnings) this.line(colour(33, `warning: ${w.message}`));
      this.finish(exitCodeOf(result, { failOn: this.def.failOn, unsaved: this.ctx.ab.isUnsaved(result.id) }));
    } catch (err) {
      this.line(colour(31, `Alloc Lens: ${err instanceof Error ? err.message : String(err)}`));
      this.finish(EXIT.usage);
    }
  }

  private onEvent(event: ExperimentEvent): void {
    switch (event.type) {
      case 'buildStarted':
        this.line(`build ${event.variant}: ${event.argv.join(' ')}`);
        break;
      case 'buildFinished':
        if (!event.ok) this.line(colour(31, `build ${event.variant} failed (exit ${event.build.exitCode}):\n${event.build.stderrTail}`));
        break;
      case 'identicalBinaries':
        this.line(colour(33, `the binaries of ${event.variants.join(' and ')} are identical: the change compiles to nothing`));
        break;
      case 'stats':
        this.line(statsLine(event.cells[0], event.pairs, event.maxPairs));
        break;
      case 'failed':
        this.line(colour(31, `${event.error.phase} failed: ${event.error.message}${event.error.argv ? `\n  ${event.error.argv.join(' ')}` : ''}${event.error.stderrTail ? `\n${event.error.stderrTail}` : ''}`));
        break;
      case 'cancelled':
        this.line(colour(33, 'cancelled: the partial samples are kept'));
        break;
    }
  }

  handleInput(data: string): void {
    if (data.includes('\x03') && !this.controller.signal.aborted) {
      this.line('^C cancelling…');
      this.controller.abort();
    }
  }

  /** The task was stopped or its terminal killed. */
  close(): void {
    this.controller.abort();
  }

  private finish(code: number): void {
    this.subscription?.dispose();
    this.closer.fire(code);
  }
}

export class AbTaskProvider implements vscode.TaskProvider {
  constructor(private readonly ctx: Ctx) {}

  static register(ctx: Ctx): vscode.Disposable {
    return vscode.tasks.registerTaskProvider(AB_TASK_TYPE, new AbTaskProvider(ctx));
  }

  /**
   * One task per flag already A/B'd in each folder (its last values), so the experiments a user
   * repeats are one "Run Task" away; new ones start from the commands or from tasks.json.
   */
  async provideTasks(): Promise<vscode.Task[]> {
    const tasks: vscode.Task[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const seen = new Set<string>();
      const entries = await readHistory(nodeAbFileSystem, folder.uri.fsPath).catch(() => []);
      for (const e of [...entries].reverse()) {
        if (!e.flag || seen.has(e.flag)) continue;
        seen.add(e.flag);
        const values = /=(\S*) → .*=(\S*)$/.exec(e.change);
        const def: AbTaskDefinition = { type: AB_TASK_TYPE, flag: e.flag, ...(values ? { a: values[1], b: values[2] } : {}) };
        if (e.metricKind === 'instructions') def.metric = 'instructions';
        tasks.push(this.task(folder, def));
      }
    }
    return tasks;
  }

  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const def = task.definition as AbTaskDefinition;
    if (def.type !== AB_TASK_TYPE) return undefined;
    const folder = typeof task.scope === 'object' ? task.scope : vscode.workspace.workspaceFolders?.[0];
    if (!folder) return undefined;
    return this.task(folder, def, task.name);
  }

  private task(folder: vscode.WorkspaceFolder, def: AbTaskDefinition, name = taskName(def)): vscode.Task {
    const task = new vscode.Task(def, folder, name, 'Alloc Lens', new vscode.CustomExecution(async (resolved) => new AbTerminal(this.ctx, folder.uri.fsPath, resolved as AbTaskDefinition)));
    task.detail = 'A/B: both variants built side by side, interleaved pairs until the verdict settles';
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, clear: true, echo: false };
    return task;
  }
}
