// A real LSP client for the bundled server: a child process spoken to over stdio with
// vscode-languageserver-protocol. No protocol mocks.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ConfigurationRequest,
  createProtocolConnection,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type ClientCapabilities,
  type InitializeResult,
  type ProtocolConnection,
  type ShowMessageParams,
  ShowMessageNotification,
  LogMessageNotification,
} from 'vscode-languageserver-protocol/node';
import { IndexStateNotification, type IndexState } from '../../protocol/lsp';
import { DIST } from './paths';

export interface ServerSession {
  connection: ProtocolConnection;
  process: ChildProcess;
  initializeResult: InitializeResult;
  messages: ShowMessageParams[];
  logs: string[];
  states: IndexState[];
  /** How many workspace/configuration requests the server has sent. */
  configRequests: () => number;
  stderr: () => string;
  /** Resolves with the first pushed index state (past or future) that satisfies `pred`. */
  waitForState(pred: (s: IndexState) => boolean, timeoutMs?: number): Promise<IndexState>;
  close(): Promise<number | null>;
}

/** `capabilities` are added to the client's (configuration and workspace folders are always on). */
export async function startServer(workspace: string, settings: Record<string, unknown> = {}, capabilities: ClientCapabilities = {}): Promise<ServerSession> {
  const child = spawn(process.execPath, [path.join(DIST, 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const messages: ShowMessageParams[] = [];
  const logs: string[] = [];
  const states: IndexState[] = [];
  const waiters: Array<{ pred: (s: IndexState) => boolean; resolve: (s: IndexState) => void }> = [];
  let configRequests = 0;
  connection.onRequest(ConfigurationRequest.type, (params) => {
    configRequests++;
    return params.items.map(() => structuredClone(settings));
  });
  connection.onNotification(ShowMessageNotification.type, (m) => messages.push(m));
  connection.onNotification(LogMessageNotification.type, (m) => logs.push(m.message));
  connection.onNotification(IndexStateNotification.type, (s) => {
    states.push(s);
    for (const w of [...waiters]) {
      if (w.pred(s)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(s);
      }
    }
  });
  connection.listen();
  const uri = pathToFileURL(workspace).href;
  const initializeResult = await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: uri,
    workspaceFolders: [{ uri, name: path.basename(workspace) }],
    capabilities: { ...capabilities, workspace: { ...capabilities.workspace, configuration: true, workspaceFolders: true } },
  });
  await connection.sendNotification(InitializedNotification.type, {});
  return {
    connection,
    process: child,
    initializeResult,
    messages,
    logs,
    states,
    configRequests: () => configRequests,
    stderr: () => stderr,
    waitForState(pred, timeoutMs = 10_000) {
      const seen = states.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching index state in ${timeoutMs} ms; saw ${JSON.stringify(states)}`)), timeoutMs);
        waiters.push({ pred, resolve: (s) => (clearTimeout(timer), resolve(s)) });
      });
    },
    async close() {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      if (child.exitCode === null) {
        await connection.sendRequest(ShutdownRequest.type);
        await connection.sendNotification(ExitNotification.type);
      }
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000))]);
      connection.dispose();
      if (code === 'timeout') {
        child.kill('SIGKILL');
        throw new Error('server did not exit within 5 s of shutdown/exit');
      }
      return code;
    },
  };
}
