import * as vscode from 'vscode';
import {
  LanguageClient,
  RevealOutputChannelOn,
  State,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { AuditRequest, IndexStateNotification, WorkspaceSummaryRequest, ReindexRequest, type AuditReport, type IndexState, type IndexSummary } from '../protocol/lsp';
import { AbService } from './ab/abService';
import { readSettings } from './config';
import * as inactiveRegions from './editor/inactiveRegions';
import { StatusBar, type ServerStatus } from './statusBar';
import { FlagsView } from './views/flagsView';

/**
 * The extension's state, with two lifetimes of disposables (as in rust-analyzer's ctx.ts):
 * `extCtx.subscriptions` live as long as the extension, `clientSubscriptions` as long as one
 * language client, and are disposed on every restart.
 */
export class Ctx {
  readonly log: vscode.LogOutputChannel;
  readonly statusBar: StatusBar;
  /** A/B experiments: one at a time per folder, for the commands, tasks and results panel. */
  readonly ab: AbService;
  private client?: LanguageClient;
  private clientSubscriptions: vscode.Disposable[] = [];
  private lastIndex?: IndexState;
  private readonly indexChanged = new vscode.EventEmitter<IndexState>();
  /** Fires on every index state the server pushes (the panel and status bar follow it). */
  readonly onDidChangeIndex = this.indexChanged.event;
  private status: ServerStatus = { kind: 'starting' };
  private readonly statusChanged = new vscode.EventEmitter<ServerStatus>();
  /** Fires when the server starts, runs, stops or is disabled (the Flags & Gates view follows it). */
  readonly onDidChangeServerStatus = this.statusChanged.event;
  /** The Flags & Gates view (issue #5). */
  readonly flags: FlagsView;

  constructor(readonly extCtx: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('Alloc Lens', { log: true });
    this.statusBar = new StatusBar();
    this.ab = new AbService(this);
    extCtx.subscriptions.push(this.log, this.statusBar, this.indexChanged, this.ab, this.statusChanged);
    this.flags = new FlagsView(this);
    extCtx.subscriptions.push(this.flags);
    extCtx.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('allocLens.server.enable')) void this.restart();
      }),
    );
  }

  get indexState(): IndexState | undefined {
    return this.lastIndex;
  }

  get isRunning(): boolean {
    return this.client?.state === State.Running;
  }

  get serverStatus(): ServerStatus {
    return this.status;
  }

  /** The running language client (for converting its protocol values), if any. */
  get languageClient(): LanguageClient | undefined {
    return this.isRunning ? this.client : undefined;
  }

  /** The status bar, the `allocLens.serverStatus` context key (view welcome content) and listeners. */
  private setStatus(status: ServerStatus): void {
    this.status = status;
    this.statusBar.set(status);
    void vscode.commands.executeCommand('setContext', 'allocLens.serverStatus', status.kind);
    this.statusChanged.fire(status);
  }

  async start(): Promise<void> {
    const { settings, problems } = readSettings();
    for (const p of problems) this.log.warn(p);
    if (!settings.server.enable) {
      this.setStatus({ kind: 'disabled' });
      this.log.info('language server disabled by allocLens.server.enable');
      return;
    }
    const module = this.extCtx.asAbsolutePath('dist/server.js');
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
    };
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.{c,h,inc}');
    this.clientSubscriptions.push(watcher);
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: 'c' },
        { scheme: 'file', language: 'cpp' },
      ],
      synchronize: { configurationSection: 'allocLens', fileEvents: watcher },
      outputChannel: this.log,
      // The server's startup failures already reach the log; don't pop the output panel.
      revealOutputChannelOn: RevealOutputChannelOn.Never,
    };
    const client = new LanguageClient('allocLens', 'Alloc Lens', serverOptions, clientOptions);
    this.client = client;
    // Editor features that need a capability of their own register before the client starts.
    this.clientSubscriptions.push(inactiveRegions.register(client));
    this.setStatus({ kind: 'starting' });
    this.clientSubscriptions.push(
      client.onDidChangeState(({ newState }) => {
        if (newState === State.Running) this.setStatus({ kind: 'running', index: this.lastIndex });
        else if (newState === State.Stopped) this.setStatus({ kind: 'stopped' });
        else this.setStatus({ kind: 'starting' });
      }),
      client.onNotification(IndexStateNotification.type, (state) => {
        this.lastIndex = state;
        this.setStatus({ kind: 'running', index: state });
        this.indexChanged.fire(state);
      }),
    );
    try {
      await client.start();
      this.log.info(`language server started (${client.initializeResult?.serverInfo?.version ?? 'unknown version'})`);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.log.error(`language server failed to start: ${reason}`);
      this.setStatus({ kind: 'stopped', reason });
      void vscode.window.showErrorMessage(`Alloc Lens: the language server failed to start: ${reason}`, 'Show Log').then(
        (pick) => pick && this.log.show(),
      );
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.lastIndex = undefined;
    for (const d of this.clientSubscriptions.splice(0)) d.dispose();
    if (client) {
      try {
        await client.dispose(2000);
      } catch (err) {
        this.log.warn(`language server did not stop cleanly: ${String(err)}`);
      }
    }
  }

  async restart(): Promise<void> {
    this.log.info('restarting the language server');
    await this.stop();
    await this.start();
  }

  async workspaceSummary(): Promise<IndexSummary> {
    return this.requireClient().sendRequest(WorkspaceSummaryRequest.type);
  }

  async reindex(): Promise<IndexSummary> {
    return this.requireClient().sendRequest(ReindexRequest.type);
  }

  /** The analysis of a workspace folder (its URI), with the flags the A/B commands offer. */
  async audit(folder?: string): Promise<AuditReport> {
    return this.requireClient().sendRequest(AuditRequest.type, { folder });
  }

  /** The running language client, for feature requests and its protocol converters; throws when it is not running. */
  requireLanguageClient(): LanguageClient {
    return this.requireClient();
  }

  private requireClient(): LanguageClient {
    if (!this.client || this.client.state !== State.Running) {
      throw new Error('the Alloc Lens language server is not running (see "Alloc Lens: Show Log")');
    }
    return this.client;
  }
}
