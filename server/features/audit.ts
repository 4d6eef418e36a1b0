import { fileURLToPath, pathToFileURL } from 'node:url';
import { ErrorCodes, ResponseError, type Disposable } from 'vscode-languageserver/node';
import { analysisOptionsFrom } from '../../core/analysis/options';
import { AuditRequest } from '../../protocol/lsp';
import type { ServerContext } from '../context';

/** `allocLens/audit`: the whole analysis of one workspace folder, once the index is ready. */
export function register(ctx: ServerContext): Disposable {
  return ctx.connection.onRequest(AuditRequest.type, async (params) => {
    try {
      await ctx.whenIndexed();
    } catch (err) {
      throw new ResponseError(1, `Alloc Lens indexing failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    const folders = ctx.workspaceFolders();
    const root = params?.folder ? fileURLToPath(params.folder) : folders[0];
    if (!root) throw new ResponseError(ErrorCodes.InvalidParams, 'Alloc Lens: no workspace folder is open, so there is nothing to audit');
    if (!folders.includes(root)) throw new ResponseError(ErrorCodes.InvalidParams, `Alloc Lens: ${root} is not a workspace folder`);
    const settings = await ctx.settings.get(pathToFileURL(root).href);
    return ctx.index.report(analysisOptionsFrom(settings.analysis), root);
  });
}
