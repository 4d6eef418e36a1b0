import * as vscode from 'vscode';
import { exportReport, rerunLast, runForFlag, runFull, showResults } from './ab/abCommands';
import type { Ctx } from './ctx';
import { showLocations } from './editor/showLocations';
import { compileOut } from './editor/compileOut';
import { OverviewPanel } from './panels/overviewPanel';
import { explainUntrusted } from './trust';
import { goToSource } from './views/flagsView';
import { selectProfile } from './views/profilePick';

interface CommandSpec {
  run(ctx: Ctx, ...args: unknown[]): unknown;
  /**
   * Commands that execute builds or benchmarks set this: in an untrusted (restricted) workspace
   * they refuse with a message instead of running anything.
   */
  requiresTrust?: boolean;
}

/** Every `allocLens.*` command, in one table (rust-analyzer's createCommands). */
const COMMANDS: Record<string, CommandSpec> = {
  'allocLens.restartServer': { run: (ctx) => ctx.restart() },
  'allocLens.showLog': { run: (ctx) => ctx.log.show() },
  'allocLens.showOverview': { run: (ctx) => void OverviewPanel.createOrShow(ctx) },
  'allocLens.abRunForFlag': { run: (ctx, arg) => runForFlag(ctx, arg as Parameters<typeof runForFlag>[1]), requiresTrust: true },
  'allocLens.abRun': { run: (ctx, arg) => runFull(ctx, arg as Parameters<typeof runFull>[1]), requiresTrust: true },
  'allocLens.abRerun': { run: (ctx) => rerunLast(ctx), requiresTrust: true },
  'allocLens.abShowResults': { run: (ctx, arg) => showResults(ctx, arg as Parameters<typeof showResults>[1]) },
  'allocLens.abExport': { run: (ctx, arg) => exportReport(ctx, arg as Parameters<typeof exportReport>[1]) },
  // Editor features and the Flags & Gates view (issue #5): read-only, or they only write settings.
  'allocLens.showLocations': { run: (ctx, ...args) => showLocations(ctx, ...args) },
  'allocLens.selectProfile': { run: (ctx, arg) => selectProfile(ctx, arg) },
  'allocLens.refreshFlagsView': { run: (ctx) => ctx.flags.refresh() },
  'allocLens.goToSource': { run: (_ctx, arg) => goToSource(arg) },
  // Edits files, runs nothing: fine in a restricted workspace.
  'allocLens.compileOut': { run: (ctx, arg) => compileOut(ctx, arg) },
};

export function registerCommands(ctx: Ctx): void {
  for (const [id, spec] of Object.entries(COMMANDS)) {
    ctx.extCtx.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        if (spec.requiresTrust && !vscode.workspace.isTrusted) {
          void explainUntrusted();
          return;
        }
        try {
          return await spec.run(ctx, ...args);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          ctx.log.error(`${id} failed: ${message}`);
          void vscode.window.showErrorMessage(`Alloc Lens: ${message}`);
        }
      }),
    );
  }
}

export const COMMAND_IDS = Object.keys(COMMANDS);
