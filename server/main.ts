// The Alloc Lens language server. Wiring only: each feature lives in features/ and is
// registered once the client's capabilities are known.
import { fileURLToPath } from 'node:url';
import {
  createConnection,
  Emitter,
  LSPErrorCodes,
  Message,
  ProposedFeatures,
  TextDocumentSyncKind,
  type ClientCapabilities,
  type Disposable,
  type InitializeResult,
  type ServerCapabilities,
  type WorkspaceFolder,
} from 'vscode-languageserver/node';
import { bundledWasm, nodeIndexHost } from '../core/host/nodeHost';
import { WorkspaceIndex } from '../core/index/workspaceIndex';
import { CParser } from '../core/parsing/cParser';
import type { IndexChange, ServerContext } from './context';
import { DocumentStore } from './documents';
import * as audit from './features/audit';
import * as codeActions from './features/codeActions';
import * as codeLens from './features/codeLens';
import * as diagnostics from './features/diagnostics';
import * as hover from './features/hover';
import * as inactiveRegions from './features/inactiveRegions';
import * as inlayHints from './features/inlayHints';
import * as workspaceIndex from './features/workspaceIndex';
import { SettingsCache } from './settings';

declare const ALLOC_LENS_VERSION: string;

// Transport (--stdio, --node-ipc, --socket) comes from argv; stdout is the LSP pipe, so
// nothing here may use console.log.
const connection = createConnection(ProposedFeatures.all, {
  // Requests the client cancelled before we reached them are answered without running them.
  cancelUndispatched: (message) =>
    Message.isRequest(message)
      ? { jsonrpc: message.jsonrpc, id: message.id, error: { code: LSPErrorCodes.RequestCancelled, message: 'cancelled' } }
      : undefined,
});

// A bug in one handler must not take the whole server down: log it and carry on.
process.on('unhandledRejection', (reason) => {
  connection.console.error(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
});

let ctx: ServerContext | undefined;
let folders: WorkspaceFolder[] = [];
const features: Disposable[] = [];
const indexChanged = new Emitter<IndexChange>();

/** Editor features: each is wired (and advertised) only when the client supports it. */
interface EditorFeature {
  supported(caps: ClientCapabilities): boolean;
  capabilities: ServerCapabilities;
  register(ctx: ServerContext): Disposable;
}
const EDITOR_FEATURES: EditorFeature[] = [
  inlayHints,
  hover,
  codeLens,
  diagnostics,
  inactiveRegions,
];

function folderPaths(): string[] {
  return folders.filter((f) => f.uri.startsWith('file:')).map((f) => fileURLToPath(f.uri));
}

connection.onInitialize(async (params): Promise<InitializeResult> => {
  const caps: ClientCapabilities = params.capabilities;
  folders = params.workspaceFolders ?? (params.rootUri ? [{ uri: params.rootUri, name: 'root' }] : []);
  const parser = await CParser.create(bundledWasm(__dirname));
  const documents = new DocumentStore(parser);
  documents.listen(connection);
  ctx = {
    connection,
    clientCapabilities: caps,
    parser,
    documents,
    settings: new SettingsCache(connection, !!caps.workspace?.configuration),
    index: new WorkspaceIndex({ parser, host: nodeIndexHost, log: (m) => connection.console.log(m) }),
    workspaceFolders: folderPaths,
    whenIndexed: () => Promise.resolve(),
    onIndexChanged: indexChanged.event,
    fireIndexChanged: (change) => indexChanged.fire(change),
    freshen: () => Promise.resolve(true),
  };
  const editorCapabilities = EDITOR_FEATURES.filter((f) => f.supported(caps)).map((f) => f.capabilities);
  return {
    capabilities: {
      ...Object.assign({}, ...editorCapabilities),
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
      workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
      ...codeActions.capabilities(caps),
      experimental: { allocLens: { workspaceSummary: true, indexState: true, reindex: true, audit: true } },
    },
    serverInfo: { name: 'alloc-lens', version: ALLOC_LENS_VERSION },
  };
});

connection.onInitialized(() => {
  if (!ctx) return;
  if (ctx.clientCapabilities.workspace?.workspaceFolders) {
    connection.workspace.onDidChangeWorkspaceFolders((e) => {
      const removed = new Set(e.removed.map((f) => f.uri));
      folders = [...folders.filter((f) => !removed.has(f.uri)), ...e.added];
    });
  }
  features.push(workspaceIndex.register(ctx));
  features.push(audit.register(ctx));
  features.push(codeActions.register(ctx));
  for (const f of EDITOR_FEATURES) if (f.supported(ctx.clientCapabilities)) features.push(f.register(ctx));
});

connection.onShutdown(() => {
  for (const f of features.splice(0)) f.dispose();
  indexChanged.dispose();
  ctx?.documents.dispose();
  ctx?.parser.dispose();
});

connection.listen();
