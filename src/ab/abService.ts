import * as vscode from 'vscode';
import { compoundedTotals, crossMetricWarnings, readHistory, resultFile, runExperiment, saveResult, type ExperimentConfig, type ExperimentEvent, type ExperimentResult } from '../../core/ab';
import { nodeAbFileSystem, nodeExperimentDeps } from '../../core/host/abHost';
import type { HistoryTable } from '../../protocol/ab';
import type { Ctx } from '../ctx';

export interface AbEvent {
  folder: string;
  event: ExperimentEvent;
}

/** Thrown when a folder already has an experiment running: benchmarks must not share the machine. */
export class AbBusyError extends Error {
  constructor(readonly folder: string) {
    super(`an A/B experiment is already running in ${folder}: wait for it or cancel it first`);
  }
}

const LAST_CONFIG_KEY = 'allocLens.ab.lastConfig';

/**
 * Runs experiments in the extension host through the engine, one at a time per folder, and
 * fans its events out to the panel, the progress notification and the task terminals.
 */
export class AbService implements vscode.Disposable {
  private readonly running = new Map<string, { controller: AbortController; events: ExperimentEvent[] }>();
  private readonly latest = new Map<string, ExperimentResult>();
  private readonly unsaved = new Set<string>();
  private readonly events = new vscode.EventEmitter<AbEvent>();
  readonly onDidEvent = this.events.event;
  private readonly finished = new vscode.EventEmitter<ExperimentResult>();
  /** Fires once a result is final and written (or its write failed): the history has it now. */
  readonly onDidFinish = this.finished.event;

  constructor(private readonly ctx: Ctx) {}

  isRunning(folder: string): boolean {
    return this.running.has(folder);
  }

  /** Cancels the folder's experiment: the engine kills the process group and keeps the partial samples. */
  cancel(folder: string): boolean {
    const r = this.running.get(folder);
    r?.controller.abort();
    return Boolean(r);
  }

  /** What the folder's running experiment has emitted so far (a panel opened mid-run catches up). */
  replay(folder: string): ExperimentEvent[] {
    return [...(this.running.get(folder)?.events ?? [])];
  }

  /** The config of the last experiment started in any folder (for "Re-run last"). */
  lastConfig(): ExperimentConfig | undefined {
    return this.ctx.extCtx.workspaceState.get<ExperimentConfig>(LAST_CONFIG_KEY);
  }

  /**
   * A stored result by id, or the folder's latest: the one this window produced (kept in memory
   * even when writing it failed), else the newest in the history.
   */
  async loadResult(folder: string, id?: string): Promise<ExperimentResult | undefined> {
    const mine = this.latest.get(folder);
    if (mine && (!id || mine.id === id)) return mine;
    const wanted = id ?? (await readHistory(nodeAbFileSystem, folder)).at(-1)?.id;
    if (!wanted) return undefined;
    const file = resultFile(folder, { id: wanted });
    if (!(await nodeAbFileSystem.exists(file))) return undefined;
    return JSON.parse((await nodeAbFileSystem.readFile(file)).toString('utf8')) as ExperimentResult;
  }

  async history(folder: string): Promise<HistoryTable> {
    const entries = await readHistory(nodeAbFileSystem, folder);
    return { entries, totals: compoundedTotals(entries) };
  }

  /** Always resolves with the engine's result (completed, cancelled or failed); throws only AbBusyError. */
  async run(config: ExperimentConfig, signal?: AbortSignal): Promise<ExperimentResult> {
    const folder = config.folder;
    if (this.running.has(folder)) throw new AbBusyError(folder);
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) controller.abort();
    const events: ExperimentEvent[] = [];
    this.running.set(folder, { controller, events });
    let result: ExperimentResult | undefined;
    try {
      await this.ctx.extCtx.workspaceState.update(LAST_CONFIG_KEY, config);
      this.ctx.log.info(`A/B ${config.name}: starting in ${folder}`);
      result = await runExperiment(config, nodeExperimentDeps(), {
        signal: controller.signal,
        onEvent: (event) => {
          // Only the live part is replayed; the final event carries the whole result anyway.
          if (event.type !== 'finished' && event.type !== 'cancelled' && event.type !== 'failed') events.push(event);
          this.logEvent(config, event);
          this.events.fire({ folder, event });
        },
      });
      this.latest.set(folder, result);
      await this.save(folder, result);
      return result;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.running.delete(folder);
      if (result) this.finished.fire(result);
    }
  }

  /** True when the result could not be written (disk full...): it lives in memory only. */
  isUnsaved(resultId: string): boolean {
    return this.unsaved.has(resultId);
  }

  /**
   * Adds the cross-metric check against the folder's history (instructions vs wall clock), then
   * writes the result and its history line. A failed write is reported; the result is kept.
   */
  private async save(folder: string, result: ExperimentResult): Promise<void> {
    const history = await readHistory(nodeAbFileSystem, folder).catch(() => []);
    for (const w of crossMetricWarnings(result, history)) {
      result.warnings.push(w);
      this.ctx.log.warn(`A/B ${result.name}: ${w.message}`);
    }
    try {
      const file = await saveResult(nodeAbFileSystem, folder, result);
      this.ctx.log.info(`A/B ${result.name}: result written to ${file}`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.unsaved.add(result.id);
      this.ctx.log.error(`A/B ${result.name}: ${message}`);
      void vscode.window.showErrorMessage(`Alloc Lens: ${message}`);
    }
  }

  private logEvent(config: ExperimentConfig, event: ExperimentEvent): void {
    const log = this.ctx.log;
    const name = config.name;
    switch (event.type) {
      case 'buildStarted':
        log.info(`A/B ${name}: building ${event.variant}: ${event.argv.join(' ')}`);
        break;
      case 'buildFinished':
        if (event.ok) log.info(`A/B ${name}: built ${event.variant} in ${Math.round(event.build.durationMs)} ms`);
        else log.error(`A/B ${name}: build of ${event.variant} failed (exit ${event.build.exitCode}):\n${event.build.stderrTail}`);
        break;
      case 'identicalBinaries':
        log.warn(`A/B ${name}: the binaries of ${event.variants.join(', ')} are identical`);
        break;
      case 'warning':
        log.warn(`A/B ${name}: ${event.warning.message}`);
        break;
      case 'finished':
      case 'cancelled':
        log.info(`A/B ${name}: ${event.result.status}: ${event.result.verdict} after ${event.result.pairs} pairs`);
        break;
      case 'failed':
        log.error(`A/B ${name}: ${event.error.phase} failed: ${event.error.message}`);
        break;
    }
  }

  dispose(): void {
    for (const r of this.running.values()) r.controller.abort();
    this.events.dispose();
    this.finished.dispose();
  }
}
