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
  type MessageConnection,
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
  /** Every other notification from the server (publishDiagnostics, allocLens/inactiveRegions, ...), in order. */
  notifications: { method: string; params: unknown }[];
  /** Requests from the server other than workspace/configuration (refreshes, ...), answered with null. */
  serverRequests: { method: string; params: unknown }[];
  /** Resolves with the params of the first notification of `method` (past or future, after `since`) satisfying `pred`. */
  waitForNotification<P>(method: string, pred?: (params: P) => boolean, options?: { timeoutMs?: number; since?: number }): Promise<P>;
  close(): Promise<number | null>;
}

export interface StartOptions {
  /** The client capabilities to announce (default: workspace configuration and folders only). */
  capabilities?: ClientCapabilities;
}

export async function startServer(workspace: string, settings: Record<string, unknown> = {}, options: StartOptions = {}): Promise<ServerSession> {
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
  const notifications: { method: string; params: unknown }[] = [];
  const noteWaiters: Array<{ method: string; from: number; pred: (p: unknown) => boolean; resolve: (p: unknown) => void }> = [];
  // ProtocolConnection's types leave out the catch-all handlers its message connection has.
  const catchAll = connection as unknown as MessageConnection;
  catchAll.onNotification((method: string, params: unknown) => {
    notifications.push({ method, params });
    for (const w of [...noteWaiters]) {
      if (w.method === method && notifications.length > w.from && w.pred(params)) {
        noteWaiters.splice(noteWaiters.indexOf(w), 1);
        w.resolve(params);
      }
    }
  });
  const serverRequests: { method: string; params: unknown }[] = [];
  catchAll.onRequest((method: string, params: unknown) => {
    serverRequests.push({ method, params });
    return null;
  });
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
    capabilities: { ...options.capabilities, workspace: { configuration: true, workspaceFolders: true, ...options.capabilities?.workspace } },
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
    notifications,
    serverRequests,
    waitForNotification<P>(method: string, pred: (params: P) => boolean = () => true, opts: { timeoutMs?: number; since?: number } = {}) {
      const from = opts.since ?? 0;
      const seen = notifications.slice(from).find((n) => n.method === method && pred(n.params as P));
      if (seen) return Promise.resolve(seen.params as P);
      return new Promise<P>((resolve, reject) => {
        const timeoutMs = opts.timeoutMs ?? 10_000;
        const timer = setTimeout(() => {
          const got = notifications.filter((n) => n.method === method).map((n) => JSON.stringify(n.params).slice(0, 300));
          reject(new Error(`no ${method} matching ${String(pred)} in ${timeoutMs} ms; saw ${got.length}: ${got.slice(-5).join('\n')}`));
        }, timeoutMs);
        noteWaiters.push({ method, from, pred: pred as (p: unknown) => boolean, resolve: (p) => (clearTimeout(timer), resolve(p as P)) });
      });
    },
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
