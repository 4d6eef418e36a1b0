// Code actions of the compile-out quick fix (issue #5), and the plan request its client command
// asks. On a telemetry atomic: "Compile out `g_x` behind `X_COMPILED` (N sites)", the whole family
// in one edit, and "… behind a flag named…", the client command with an input box. On an unknown
// atomic (or one that tests read) only the command, which shows the evidence first; on
// correctness nothing. Inside a
// wrapper: "Remove compile-out wrapper", for this site or every site of the flag.
// The edit is resolved lazily (codeAction/resolve) when the client can, so listing actions stays cheap.
import {
  CodeActionKind,
  ErrorCodes,
  ResponseError,
  type CodeAction,
  type CodeActionParams,
  type ClientCapabilities,
  type Diagnostic,
  type Disposable,
  type ServerCapabilities,
} from 'vscode-languageserver/node';
import {
  COMPILE_OUT_COMMAND,
  COMPILE_OUT_KIND,
  CompileOutPlanRequest,
  REMOVE_COMPILE_OUT_KIND,
  type CompileOutCommandArgs,
  type CompileOutPlanParams,
  type CompileOutPlanResult,
} from '../../protocol/compileOut';
import { CompileOutService, type FolderView } from '../compileOut';
import type { ServerContext } from '../context';

/** What a lazily resolved action needs to compute its edit again. */
type ActionData =
  | { kind: 'compileOut'; uri: string; family: string; flag: string }
  | { kind: 'remove'; uri: string; line: number; scope: 'site' | 'flag' };

function resolvesEdits(caps: ClientCapabilities): boolean {
  return !!caps.textDocument?.codeAction?.resolveSupport?.properties.includes('edit');
}

/** The static capability, declared only to clients that ask for code actions. */
export function capabilities(caps: ClientCapabilities): Pick<ServerCapabilities, 'codeActionProvider'> {
  if (!caps.textDocument?.codeAction) return {};
  return { codeActionProvider: { codeActionKinds: [COMPILE_OUT_KIND, REMOVE_COMPILE_OUT_KIND], resolveProvider: resolvesEdits(caps) } };
}

/** `only: ['refactor']` asks for refactor.rewrite too. */
function wanted(only: readonly string[] | undefined, kind: string): boolean {
  return !only?.length || only.some((k) => k === kind || kind.startsWith(`${k}.`));
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

export function register(ctx: ServerContext): Disposable {
  const { connection, clientCapabilities: caps } = ctx;
  const service = new CompileOutService(ctx);
  const lazy = resolvesEdits(caps);
  const disposables: Disposable[] = [connection.onRequest(CompileOutPlanRequest.type, (params) => planRequest(service, params))];
  if (!caps.textDocument?.codeAction) return { dispose: () => disposables.forEach((d) => d.dispose()) };

  const editFor = (view: FolderView, data: ActionData): CodeAction['edit'] => {
    const edits = data.kind === 'compileOut' ? okPlan(service.plan(view, data.family, data.flag))?.edits : service.removal(view, data.line, data.scope).edits;
    if (!edits?.length) return undefined;
    const we = service.workspaceEdit(view, edits);
    return 'error' in we ? undefined : we;
  };

  disposables.push(
    connection.onCodeAction(async (params: CodeActionParams) => {
      try {
        return await codeActions(params);
      } catch (err) {
        connection.console.error(`code actions failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        return [];
      }
    }),
    connection.onCodeActionResolve(async (action) => {
      const data = action.data as ActionData | undefined;
      if (!data || action.edit) return action;
      try {
        const view = await service.folder(data.uri);
        if (view) action.edit = editFor(view, data);
      } catch (err) {
        connection.console.error(`code action resolve failed: ${String(err)}`);
      }
      return action;
    }),
  );

  async function codeActions(params: CodeActionParams): Promise<CodeAction[]> {
    const fix = wanted(params.context.only, COMPILE_OUT_KIND);
    const rewrite = wanted(params.context.only, REMOVE_COMPILE_OUT_KIND);
    if (!fix && !rewrite) return [];
    const uri = params.textDocument.uri;
    if (!ctx.documents.get(uri)) return [];
    const view = await service.folder(uri);
    if (!view) return [];
    const actions: CodeAction[] = [];
    const make = (title: string, kind: string, data: ActionData, extra: Partial<CodeAction> = {}): CodeAction => {
      const action: CodeAction = { title, kind, data, ...extra };
      if (!lazy) action.edit = editFor(view, data);
      return action;
    };

    if (fix && !view.isTestFile(view.file)) {
      for (const site of service.sitesIn(view, params.range.start.line, params.range.end.line)) {
        const plan = service.plan(view, site.family);
        if (plan.classification === 'correctness' || !plan.wrapped.length) continue;
        const position = { line: site.line - 1, character: site.column - 1 };
        const args: CompileOutCommandArgs = { uri, position };
        // Tests that read the counter would see 0: like an unknown atomic, that goes through the
        // command, which shows the evidence first.
        const testsRead = plan.evidence.some((e) => e.kind === 'test');
        if (plan.classification === 'telemetry' && !testsRead && !plan.error && !plan.invalidFlag && plan.wrapped.length) {
          const files = new Set(plan.wrapped.map((w) => w.file)).size;
          const left = plan.skipped.length ? `; ${plural(plan.skipped.length, 'site')} left as they are` : '';
          const diagnostics = (params.context.diagnostics ?? []).filter((d: Diagnostic) => d.code === 'telemetry-not-compiled-out' && d.range.start.line + 1 >= site.line && d.range.start.line + 1 <= site.endLine);
          actions.push(
            make(`Compile out \`${site.family}\` behind \`${plan.flag}\` (${plural(plan.wrapped.length, 'site')} in ${plural(files, 'file')}${left})`, CodeActionKind.QuickFix, { kind: 'compileOut', uri, family: site.family, flag: plan.flag }, { isPreferred: true, ...(diagnostics.length ? { diagnostics } : {}) }),
          );
        }
        const review = plan.classification === 'unknown' ? ' (unknown: review the evidence)' : testsRead ? ' (tests read it: review the evidence)' : '';
        const title = `Compile out \`${site.family}\` behind a flag named…${review}`;
        actions.push({ title, kind: CodeActionKind.QuickFix, command: { title, command: COMPILE_OUT_COMMAND, arguments: [args] } });
      }
    }

    if (rewrite) {
      const line = params.range.start.line + 1;
      const one = service.removal(view, line, 'site');
      if (one.flag && one.removed.length) {
        const where = one.defaultRemoved ? ` (the last one: also its default in ${one.defaultRemoved.file})` : '';
        actions.push(make(`Remove compile-out wrapper \`${one.flag}\`${where}`, REMOVE_COMPILE_OUT_KIND, { kind: 'remove', uri, line, scope: 'site' }));
        if (one.total > 1) {
          const all = service.removal(view, line, 'flag');
          const dflt = all.defaultRemoved ? ` and its default in ${all.defaultRemoved.file}` : '';
          actions.push(make(`Remove all ${all.removed.length} \`${one.flag}\` compile-out wrappers${dflt}`, REMOVE_COMPILE_OUT_KIND, { kind: 'remove', uri, line, scope: 'flag' }));
        }
      }
    }
    return actions;
  }

  return { dispose: () => disposables.forEach((d) => d.dispose()) };
}

function okPlan<T extends { error: string | null; invalidFlag: string | null }>(p: T): T | undefined {
  return p.error || p.invalidFlag ? undefined : p;
}

async function planRequest(service: CompileOutService, params: CompileOutPlanParams): Promise<CompileOutPlanResult> {
  let view: FolderView | null;
  try {
    view = await service.folder(params.textDocument.uri);
  } catch (err) {
    throw new ResponseError(1, `Alloc Lens indexing failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!view) throw new ResponseError(ErrorCodes.InvalidParams, `Alloc Lens: ${params.textDocument.uri} is not in a workspace folder`);
  const site = service.siteAt(view, params.position);
  const none: CompileOutPlanResult = {
    family: null,
    target: null,
    classification: null,
    reason: '',
    evidence: [],
    temperature: null,
    proposedFlag: '',
    flag: params.flag ?? '',
    invalidFlag: null,
    error: `no atomic write site on line ${params.position.line + 1} of ${view.file}`,
    wrapped: [],
    alreadyWrapped: [],
    skipped: [],
    header: null,
    notes: [],
  };
  if (!site) return none;
  const plan = service.plan(view, site.family, params.flag, !!params.validateOnly);
  let error = plan.error;
  let edit: CompileOutPlanResult['edit'];
  if (!params.validateOnly && !plan.error && !plan.invalidFlag) {
    const we = service.workspaceEdit(view, plan.edits);
    if ('error' in we) error = we.error;
    else edit = we;
  }
  const v = view;
  return {
    family: plan.family,
    target: site.target,
    classification: plan.classification,
    reason: plan.reason,
    evidence: plan.evidence.map((e) => service.evidence(v, e)),
    temperature: plan.temperature,
    proposedFlag: plan.proposedFlag,
    flag: plan.flag,
    invalidFlag: plan.invalidFlag,
    error,
    edit,
    wrapped: plan.wrapped.map((w) => service.location(v, w)),
    alreadyWrapped: plan.alreadyWrapped.map((a) => ({ location: service.location(v, a), flag: a.flag })),
    skipped: plan.skipped.map((s) => ({ location: service.location(v, s), reason: s.reason })),
    header: plan.header ? service.uriOf(v.root, plan.header.file) : null,
    notes: plan.notes,
  };
}
