import { fileURLToPath, pathToFileURL } from 'node:url';
import { FileChangeType, ResponseError, type CancellationToken, type Disposable } from 'vscode-languageserver/node';
import { IndexCancelledError, type IndexRoot, type IndexSummary } from '../../core/index/workspaceIndex';
import { nodeIndexHost } from '../../core/host/nodeHost';
import { IndexStateNotification, ReindexRequest, WorkspaceSummaryRequest } from '../../protocol/lsp';
import type { ServerContext } from '../context';

const EDIT_DEBOUNCE_MS = 200;

/** A `file:` uri as a path; undefined for other schemes and for ones Node cannot map (`file://host/...`). */
function toPath(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

function whenCancelled(token?: CancellationToken): Promise<void> {
  if (!token) return new Promise<void>(() => undefined);
  return new Promise<void>((resolve) => {
    if (token.isCancellationRequested) resolve();
    else token.onCancellationRequested(() => resolve());
  });
}

/**
 * Background index of every C file in the workspace, with open documents overlaid as they are
 * edited. Answers `allocLens/workspaceSummary` and pushes `allocLens/indexState`.
 */
export function register(ctx: ServerContext): Disposable {
  const { connection, index, documents } = ctx;
  let controller: AbortController | undefined;
  let run: Promise<IndexSummary> = Promise.resolve(index.summary());
  const pendingEdits = new Map<string, NodeJS.Timeout>();
  /** True while a full pass runs: edits overlay a half-empty table, so they must not say "ready". */
  let running = false;
  /** Until the first pass has finished, requests wait for it (the table is empty before). */
  let settledOnce = false;

  const notify = (requested: 'indexing' | 'ready' | 'failed', message?: string) => {
    const state = requested === 'ready' && running ? 'indexing' : requested;
    const s = index.summary();
    void connection.sendNotification(IndexStateNotification.type, {
      state,
      files: s.files,
      atomicCalls: s.atomicCalls,
      getenvCalls: s.getenvCalls,
      message,
    });
  };

  const overlayOpenDocuments = () => {
    for (const doc of documents.all()) rescanOpen(doc.uri);
  };

  const rescanOpen = (uri: string) => {
    const path = toPath(uri);
    const doc = documents.get(uri);
    const tree = documents.tree(uri);
    if (!path || !doc || !tree) return;
    index.updateFile(path, doc.getText(), tree);
  };

  const currentRoots = async (): Promise<IndexRoot[]> => {
    const roots: IndexRoot[] = [];
    for (const root of ctx.workspaceFolders()) {
      roots.push({ root, limits: (await ctx.settings.get(pathToFileURL(root).href)).index });
    }
    return roots;
  };
  let indexedRoots = '';

  const reindex = (known?: IndexRoot[]): Promise<IndexSummary> => {
    controller?.abort();
    const mine = new AbortController();
    controller = mine;
    running = true;
    notify('indexing');
    if (known) indexedRoots = JSON.stringify(known);
    const attempt = (async () => {
      const roots = known ?? (await currentRoots());
      indexedRoots = JSON.stringify(roots);
      const started = Date.now();
      const summary = await index.indexAll(roots, mine.signal);
      overlayOpenDocuments();
      if (controller === mine) running = false;
      settledOnce = true;
      connection.console.info(
        `indexed ${summary.files} C files in ${Date.now() - started} ms: ` +
          `${summary.atomicCalls} atomic calls, ${summary.getenvCalls} getenv calls` +
          (summary.filesWithErrors ? `, ${summary.filesWithErrors} with parse errors` : ''),
      );
      notify('ready');
      ctx.fireIndexChanged({ reason: 'indexed', uris: documents.all().map((d) => d.uri) });
      return index.summary();
    })();
    run = attempt.catch((err: unknown) => {
      // A newer run replaced this one; its promise is the one callers should wait for.
      if (err instanceof IndexCancelledError) return run;
      const message = err instanceof Error ? err.message : String(err);
      if (controller === mine) running = false;
      settledOnce = true;
      connection.console.error(`indexing failed: ${message}`);
      notify('failed', message);
      throw err;
    });
    return run;
  };

  /** Rescans files changed on disk (not open in the editor), then tells the client once. */
  const rescanFromDisk = async (paths: string[], removed = 0) => {
    await Promise.all(
      paths.map((path) =>
        nodeIndexHost.readFile(path).then(
          (text) => index.updateFile(path, text),
          () => index.removeFile(path),
        ),
      ),
    );
    notify('ready');
    if (paths.length || removed) ctx.fireIndexChanged({ reason: 'disk', uris: [] });
  };

  /** Applies a document's debounced edit now (the timer's work, or a request's that cannot wait). */
  const applyEdit = (uri: string) => {
    const timer = pendingEdits.get(uri);
    if (!timer) return;
    clearTimeout(timer);
    pendingEdits.delete(uri);
    rescanOpen(uri);
    notify('ready');
    ctx.fireIndexChanged({ reason: 'edited', uris: [uri] });
  };

  const summaryNow = async (): Promise<IndexSummary> => {
    try {
      await run;
    } catch (err) {
      throw new ResponseError(1, `Alloc Lens indexing failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    return index.summary();
  };

  ctx.whenIndexed = () => run;
  ctx.freshen = async (uri?: string, token?: CancellationToken) => {
    if (uri) applyEdit(uri);
    if (!settledOnce) await Promise.race([run.catch(() => undefined), whenCancelled(token)]);
    return !token?.isCancellationRequested;
  };

  const disposables: Disposable[] = [
    connection.onRequest(WorkspaceSummaryRequest.type, summaryNow),
    connection.onRequest(ReindexRequest.type, async () => {
      void reindex().catch(() => undefined);
      return summaryNow();
    }),
    documents.onDidChange((doc) => {
      clearTimeout(pendingEdits.get(doc.uri));
      pendingEdits.set(
        doc.uri,
        setTimeout(() => applyEdit(doc.uri), EDIT_DEBOUNCE_MS),
      );
    }),
    documents.onDidClose((uri) => {
      clearTimeout(pendingEdits.get(uri));
      pendingEdits.delete(uri);
      const path = toPath(uri);
      // Unsaved edits are discarded on close: fall back to the file on disk.
      if (path) void rescanFromDisk([path]);
    }),
    connection.onDidChangeWatchedFiles(({ changes }) => {
      const changed: string[] = [];
      let removed = 0;
      for (const change of changes) {
        const path = toPath(change.uri);
        if (!path || documents.get(change.uri)) continue;
        if (change.type === FileChangeType.Deleted) {
          index.removeFile(path);
          removed++;
        } else changed.push(path);
      }
      void rescanFromDisk(changed, removed);
    }),
    connection.onDidChangeConfiguration(async () => {
      ctx.settings.clear();
      // Only index settings matter here: a trace level change must not reread the workspace.
      const roots = await currentRoots();
      if (JSON.stringify(roots) !== indexedRoots) void reindex(roots).catch(() => undefined);
      // Editor settings (profile, toggles, defines) change what the features show right away.
      ctx.fireIndexChanged({ reason: 'settings', uris: [] });
    }),
  ];

  if (ctx.clientCapabilities.workspace?.workspaceFolders) {
    disposables.push(connection.workspace.onDidChangeWorkspaceFolders(() => void reindex().catch(() => undefined)));
  }

  void reindex().catch(() => undefined);

  return {
    dispose() {
      controller?.abort();
      for (const t of pendingEdits.values()) clearTimeout(t);
      for (const d of disposables) d.dispose();
    },
  };
}
