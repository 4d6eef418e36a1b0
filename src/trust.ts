import * as vscode from 'vscode';

/** Says why nothing runs in a restricted workspace, and offers VS Code's trust dialog. */
export async function explainUntrusted(): Promise<void> {
  const pick = await vscode.window.showWarningMessage(
    'Alloc Lens does not run builds or benchmarks in a restricted workspace: an A/B experiment runs the folder\'s make and its binaries. Trust this folder to enable it.',
    'Manage Workspace Trust',
  );
  if (pick) await vscode.commands.executeCommand('workbench.trust.manage');
}
