import * as vscode from 'vscode';
import type { IndexSummary } from '../protocol/lsp';
import { AbTaskProvider } from './ab/abTasks';
import { registerCommands } from './commands';
import { Ctx } from './ctx';
import { AbPanel } from './panels/abPanel';
import { OverviewPanel } from './panels/overviewPanel';
import { registerProfileStatus } from './views/profilePick';

/** What `activate` returns: used by the test runners to ask the running extension directly. */
export interface AllocLensApi {
  workspaceSummary(): Promise<IndexSummary>;
  readonly serverRunning: boolean;
}

let ctx: Ctx | undefined;

export async function activate(extCtx: vscode.ExtensionContext): Promise<AllocLensApi> {
  ctx = new Ctx(extCtx);
  const c = ctx;
  registerCommands(c);
  extCtx.subscriptions.push(OverviewPanel.registerSerializer(c), AbPanel.registerSerializer(c), AbTaskProvider.register(c), registerProfileStatus(c));
  await vscode.commands.executeCommand('setContext', 'allocLens.active', true);
  c.log.info(`Alloc Lens ${extCtx.extension.packageJSON.version as string} activated (workspace trusted: ${vscode.workspace.isTrusted})`);
  await c.start();
  return {
    workspaceSummary: () => c.workspaceSummary(),
    get serverRunning() {
      return c.isRunning;
    },
  };
}

export async function deactivate(): Promise<void> {
  await ctx?.stop();
  ctx = undefined;
}
