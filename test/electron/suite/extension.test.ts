import * as assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AllocLensApi } from '../../../src/extension';

describe('Alloc Lens in desktop VS Code', () => {
  const folder = () => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? assert.fail('open allocator/ as the workspace');

  it('activates on a C file, and its server answers the workspace summary', async () => {
    const src = path.join(folder(), 'src');
    const cFile = readdirSync(src).filter((f) => f.endsWith('.c')).sort()[0];
    await vscode.window.showTextDocument(vscode.Uri.file(path.join(src, cFile)));
    const ext = vscode.extensions.getExtension<AllocLensApi>('alloc-lens.alloc-lens');
    assert.ok(ext, 'extension alloc-lens.alloc-lens is not installed');
    const api = await ext.activate();
    const summary = await api.workspaceSummary();
    assert.ok(api.serverRunning);
    assert.ok(summary.files > 0, 'no C files indexed');
    assert.ok(summary.atomicCalls > 0, 'no atomics found in allocator/');
  });

  it('registers every command that package.json contributes', async () => {
    const contributed: { command: string }[] = vscode.extensions.getExtension('alloc-lens.alloc-lens')!.packageJSON.contributes.commands;
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const { command } of contributed) assert.ok(registered.has(command), command);
  });
});
