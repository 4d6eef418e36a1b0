// `allocLens.showLocations`: the command the server's code lenses run to list sites (a flag's
// uses, a counter's reads). The arguments arrive as LSP JSON; convert them with the client's
// converter and open VS Code's references peek, as rust-analyzer's showReferences does.
import * as vscode from 'vscode';
import type { Location, Position } from 'vscode-languageserver-protocol';
import type { ShowLocationsArgs } from '../../protocol/editor';
import type { Ctx } from '../ctx';

function isPosition(v: unknown): v is Position {
  return v !== null && typeof v === 'object' && typeof (v as Position).line === 'number' && typeof (v as Position).character === 'number';
}

function isLocation(v: unknown): v is Location {
  return v !== null && typeof v === 'object' && typeof (v as Location).uri === 'string' && typeof (v as Location).range === 'object';
}

export async function showLocations(ctx: Ctx, ...args: unknown[]): Promise<void> {
  const [uri, position, locations] = args as Partial<ShowLocationsArgs>;
  if (typeof uri !== 'string' || !isPosition(position) || !Array.isArray(locations) || !locations.every(isLocation)) {
    throw new Error('allocLens.showLocations expects (uri, position, locations) as LSP JSON');
  }
  const client = ctx.languageClient;
  if (!client) throw new Error('the Alloc Lens language server is not running (see "Alloc Lens: Show Log")');
  const conv = client.protocol2CodeConverter;
  await vscode.commands.executeCommand(
    'editor.action.showReferences',
    conv.asUri(uri),
    conv.asPosition(position),
    locations.map((l) => conv.asLocation(l)),
  );
}
