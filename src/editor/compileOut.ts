// `allocLens.compileOut`: compile out the counter family of the atomic at a position, behind a
// flag the user names. The server plans everything (the client never analyses C): this asks it
// for the family and the proposed name, checks the name as it is typed, shows the evidence of an
// unknown atomic in a modal before going on, applies the one WorkspaceEdit (one undo reverts it)
// and lists the sites it left alone.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CompileOutPlanRequest, type CompileOutCommandArgs, type CompileOutPlanResult } from '../../protocol/compileOut';
import type { Ctx } from '../ctx';

const C_LANGUAGES = new Set(['c', 'cpp']);
const MAX_EVIDENCE = 12;

/** Code actions and views pass `{ uri, position }` (uri as a string or a vscode.Uri). */
type Args = { uri: string | vscode.Uri; position: { line: number; character: number } };

function fromEditor(): CompileOutCommandArgs | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !C_LANGUAGES.has(editor.document.languageId)) return undefined;
  const p = editor.selection.active;
  return { uri: editor.document.uri.toString(), position: { line: p.line, character: p.character } };
}

function toArgs(arg: unknown): CompileOutCommandArgs | undefined {
  const a = arg as Partial<Args> | undefined;
  if (!a?.uri || !a.position || typeof a.position.line !== 'number' || typeof a.position.character !== 'number') return undefined;
  return { uri: a.uri.toString(), position: { line: a.position.line, character: a.position.character } };
}

function where(location: { uri: string; range: { start: { line: number } } }): string {
  return `${vscode.workspace.asRelativePath(vscode.Uri.parse(location.uri))}:${location.range.start.line + 1}`;
}

/** The evidence of a classification, one read per line, for the confirmation's detail. */
function evidenceText(plan: CompileOutPlanResult): string {
  const lines = plan.evidence.slice(0, MAX_EVIDENCE).map((e) => `${e.kind.padEnd(11)} ${where(e.location)}${e.function ? ` in ${e.function}` : ''}${e.text ? `: ${e.text}` : ''}`);
  if (plan.evidence.length > MAX_EVIDENCE) lines.push(`…and ${plan.evidence.length - MAX_EVIDENCE} more`);
  return [plan.reason, '', ...(lines.length ? lines : ['No read of it was found.'])].join('\n');
}

export async function compileOut(ctx: Ctx, arg?: unknown): Promise<void> {
  const target = toArgs(arg) ?? fromEditor();
  if (!target) {
    void vscode.window.showInformationMessage('Alloc Lens: put the cursor on an atomic write site in a C file, then run "Compile Out Telemetry Family…" again.');
    return;
  }
  const client = ctx.requireLanguageClient();
  const ask = (flag?: string, validateOnly = false) =>
    client.sendRequest(CompileOutPlanRequest.type, { textDocument: { uri: target.uri }, position: target.position, flag, validateOnly });

  const first = await ask(undefined, true);
  const family = first.family ?? 'this atomic';
  if (first.error) {
    void vscode.window.showWarningMessage(`Alloc Lens: cannot compile out \`${family}\`: ${first.error}`);
    return;
  }
  const testsRead = first.evidence.some((e) => e.kind === 'test');
  if (first.classification === 'unknown' || testsRead) {
    const go = 'Compile Out Anyway';
    const why =
      first.classification === 'unknown'
        ? `\`${family}\` is neither telemetry nor correctness: some of its reads go where the analysis cannot follow. Compile it out only if none of them changes what the program does.`
        : `\`${family}\` is telemetry, but tests or benchmarks read it: with the flag at 0 they see 0, so a test that checks it fails unless built with the flag at 1.`;
    const pick = await vscode.window.showWarningMessage(why, { modal: true, detail: evidenceText(first) }, go);
    if (pick !== go) return;
  }

  const proposed = first.proposedFlag;
  const stem = proposed.endsWith('_COMPILED') ? proposed.length - '_COMPILED'.length : proposed.length;
  const flag = await vscode.window.showInputBox({
    title: `Compile out ${family} (${first.wrapped.length} write site${first.wrapped.length === 1 ? '' : 's'}, ${first.classification})`,
    prompt: 'The flag: the sites compile in only when it is 1; its default (0) goes to the build-flags header.',
    value: proposed,
    valueSelection: [proposed.indexOf('_') + 1 || 0, stem],
    ignoreFocusOut: true,
    validateInput: async (value) => (await ask(value.trim(), true)).invalidFlag ?? undefined,
  });
  if (flag === undefined) return;

  const plan = await ask(flag.trim());
  if (plan.error || plan.invalidFlag || !plan.edit) {
    void vscode.window.showErrorMessage(`Alloc Lens: cannot compile out \`${family}\`: ${plan.error ?? plan.invalidFlag ?? 'the server sent no edit'}`);
    return;
  }
  const edit = await client.protocol2CodeConverter.asWorkspaceEdit(plan.edit);
  if (!(await vscode.workspace.applyEdit(edit))) {
    void vscode.window.showErrorMessage('Alloc Lens: VS Code did not apply the compile-out edit (a file changed meanwhile?). Run the command again.');
    return;
  }
  for (const n of plan.notes) ctx.log.info(`compile-out ${plan.flag}: ${n}`);
  await report(plan);
}

async function report(plan: CompileOutPlanResult): Promise<void> {
  const files = new Set(plan.wrapped.map((l) => l.uri)).size;
  const header = plan.header ? `; default 0 in ${path.posix.basename(vscode.Uri.parse(plan.header).path)}` : '';
  const done = `Alloc Lens: compiled out \`${plan.family}\` behind ${plan.flag}: ${plan.wrapped.length} site${plan.wrapped.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}${header}. One undo reverts it all.`;
  if (!plan.skipped.length) {
    void vscode.window.showInformationMessage(done);
    return;
  }
  const list = plan.skipped.slice(0, 3).map((s) => `${where(s.location)} (${s.reason})`).join('; ');
  const more = plan.skipped.length > 3 ? `; and ${plan.skipped.length - 3} more` : '';
  const show = 'Show';
  const pick = await vscode.window.showWarningMessage(`${done} ${plan.skipped.length} site${plan.skipped.length === 1 ? ' was' : 's were'} left as they are: ${list}${more}.`, show);
  if (pick !== show) return;
  const chosen =
    plan.skipped.length === 1
      ? plan.skipped[0]
      : (await vscode.window.showQuickPick(
          plan.skipped.map((s) => ({ label: where(s.location), detail: s.reason, site: s })),
          { title: `Sites of ${plan.family} left as they are`, matchOnDetail: true },
        ))?.site;
  if (!chosen) return;
  const { line, character } = chosen.location.range.start;
  const position = new vscode.Position(line, character);
  await vscode.window.showTextDocument(vscode.Uri.parse(chosen.location.uri), { selection: new vscode.Range(position, position) });
}
