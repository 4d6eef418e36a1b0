import * as assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  DidChangeConfigurationNotification,
  DidChangeTextDocumentNotification,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  MessageType,
} from 'vscode-languageserver-protocol/node';
import { AuditRequest, WorkspaceSummaryRequest } from '../../protocol/lsp';
import { CParser } from '../../core/parsing/cParser';
import { scanText } from '../support/scanOracle';
import { FIXTURES, ROOT, nodeModulesWasm } from '../support/paths';
import { startServer, type ServerSession } from '../support/lspClient';
import { waitFor } from '../support/wait';

describe('language server over a real LSP connection (dist/server.js --stdio)', () => {
  let workspace: string;
  let session: ServerSession | undefined;

  beforeEach(() => {
    workspace = mkdtempSync(path.join(tmpdir(), 'alloc-lens-server-'));
    cpSync(path.join(FIXTURES, 'workspace'), workspace, { recursive: true });
  });
  afterEach(async () => {
    if (session && session.process.exitCode === null) await session.close();
    session = undefined;
    rmSync(workspace, { recursive: true, force: true });
  });

  it('answers initialize with its capabilities and version', async () => {
    session = await startServer(workspace);
    const { capabilities, serverInfo } = session.initializeResult;
    const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
    assert.deepEqual(serverInfo, { name: 'alloc-lens', version });
    assert.deepEqual(capabilities.textDocumentSync, { openClose: true, change: 2 });
    assert.deepEqual(capabilities.experimental, { allocLens: { workspaceSummary: true, indexState: true, reindex: true, audit: true } });
  });

  it('indexes the workspace and reports the same counts as the core scan', async () => {
    session = await startServer(workspace);
    const state = await session.waitForState((s) => s.state === 'ready');
    const summary = await session.connection.sendRequest(WorkspaceSummaryRequest.type);
    assert.equal(summary.files, 3);
    assert.equal(summary.atomicCalls, 4);
    assert.equal(summary.getenvCalls, 2);
    assert.equal(summary.filesWithErrors, 1);
    assert.equal(state.files, 3);
    assert.ok(session.logs.some((l) => /indexed 3 C files/.test(l)), session.logs.join('\n'));
  });

  it('follows incremental edits of an open document, matching a fresh parse of the final text', async () => {
    session = await startServer(workspace);
    await session.waitForState((s) => s.state === 'ready');
    const file = path.join(workspace, 'src', 'pool.c');
    const uri = pathToFileURL(file).href;
    let text = readFileSync(file, 'utf8');
    await session.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'c', version: 1, text } });
    // Insert a new atomic at the top of pool_free, then delete the getenv call's line, in 2 versions.
    const lines = text.split('\n');
    const freeLine = lines.findIndex((l) => l.startsWith('void pool_free')) + 1;
    const insert = '    atomic_fetch_sub_explicit(&g_spill_len, 1, memory_order_relaxed);\n';
    await session.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: 2 },
      contentChanges: [{ range: { start: { line: freeLine, character: 0 }, end: { line: freeLine, character: 0 } }, text: insert }],
    });
    lines.splice(freeLine, 0, insert.slice(0, -1));
    const getenvLine = lines.findIndex((l) => l.includes('getenv('));
    await session.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: 3 },
      contentChanges: [{ range: { start: { line: getenvLine, character: 0 }, end: { line: getenvLine + 1, character: 0 } }, text: '' }],
    });
    lines.splice(getenvLine, 1);
    text = lines.join('\n');
    const state = await session.waitForState((s) => s.state === 'ready' && s.atomicCalls === 5);
    assert.equal(state.getenvCalls, 1);
    const summary = await session.connection.sendRequest(WorkspaceSummaryRequest.type);
    const served = summary.perFile.find((f) => f.path === file)!;
    const parser = await CParser.create(nodeModulesWasm());
    try {
      const fresh = scanText(parser, text);
      assert.deepEqual({ ...served, path: undefined, bytes: undefined }, { ...fresh, path: undefined, bytes: undefined });
    } finally {
      parser.dispose();
    }
    // Closing without saving falls back to the file on disk.
    await session.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
    await waitFor(async () => (await session!.connection.sendRequest(WorkspaceSummaryRequest.type)).atomicCalls === 4);
  });

  it('answers allocLens/audit for a folder, following unsaved edits and falling back to disk on close', async () => {
    session = await startServer(workspace);
    const folder = pathToFileURL(workspace).href;
    // Asked before the index is ready: the request waits for it.
    const before = await session.connection.sendRequest(AuditRequest.type, { folder });
    assert.equal(before.root, workspace);
    const alloc = (r: typeof before) => r.atomics.find((a) => a.file === 'src/pool.c' && a.field === 'alloc_calls')!;
    assert.equal(alloc(before).classification, 'telemetry');
    assert.equal(before.atomics.find((a) => a.base === 'g_spill_len')?.classification, 'correctness');
    assert.deepEqual(before.envGates.map((g) => `${g.name}=${g.default}`), ['FIX_MODE=off', 'FIX_POOL_ENABLED=off']);

    const file = path.join(workspace, 'src', 'pool.c');
    const uri = pathToFileURL(file).href;
    const text = readFileSync(file, 'utf8');
    await session.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'c', version: 1, text } });
    // The counter starts to decide something: it becomes correctness, with the new read as evidence.
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.includes('g_pool_stats[ci].alloc_calls')) + 1;
    await session.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: 2 },
      contentChanges: [{ range: { start: { line: at, character: 0 }, end: { line: at, character: 0 } }, text: '    if (atomic_load(&g_pool_stats[ci].alloc_calls) > 1000) return NULL;\n' }],
    });
    const edited = await waitFor(async () => {
      const r = await session!.connection.sendRequest(AuditRequest.type, { folder });
      return alloc(r).classification === 'correctness' ? r : undefined;
    });
    assert.ok(alloc(edited).evidence.some((e) => e.kind === 'condition' && e.line === at + 1), JSON.stringify(alloc(edited).evidence));
    await session.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
    await waitFor(async () => alloc(await session!.connection.sendRequest(AuditRequest.type, { folder })).classification === 'telemetry');

    await assert.rejects(session.connection.sendRequest(AuditRequest.type, { folder: pathToFileURL(tmpdir()).href }), /not a workspace folder/);
  });

  it('never reports "ready" with a partial count while the first index pass runs', async () => {
    // Enough files that indexing outlasts the edit debounce, and a document opened at once.
    const body = 'void f(void) {\n' + '  atomic_fetch_add(&c, 1);\n'.repeat(60) + '}\n';
    for (let i = 0; i < 1500; i++) writeFileSync(path.join(workspace, 'src', `gen${i}.c`), body);
    session = await startServer(workspace);
    const file = path.join(workspace, 'src', 'pool.c');
    await session.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri: pathToFileURL(file).href, languageId: 'c', version: 1, text: readFileSync(file, 'utf8') },
    });
    await session.waitForState((s) => s.state === 'ready' && s.files === 1503, 30_000);
    const ready = session.states.filter((s) => s.state === 'ready').map((s) => s.files);
    assert.deepEqual([...new Set(ready)], [1503], `ready states: ${JSON.stringify(ready)}`);
  });

  it('warns about odd settings and falls back to defaults', async () => {
    session = await startServer(workspace, { index: { maxFiles: 'lots' } });
    await session.waitForState((s) => s.state === 'ready');
    const warnings = session.messages.filter((m) => m.type === MessageType.Warning).map((m) => m.message);
    assert.deepEqual(warnings, ['Alloc Lens: allocLens.index.maxFiles: expected an integer from 1 to 100000; using the default 5000']);
    assert.equal((await session.connection.sendRequest(WorkspaceSummaryRequest.type)).files, 3);
  });

  it('applies allocLens.index.maxFiles from workspace/configuration', async () => {
    session = await startServer(workspace, { index: { maxFiles: 1 } });
    const summary = await session.connection.sendRequest(WorkspaceSummaryRequest.type);
    assert.equal(summary.files, 1);
    assert.equal(summary.skipped.overCap, 2);
  });

  it('reindexes when index settings change, and only then', async () => {
    const settings: Record<string, unknown> = { trace: { server: 'off' } };
    session = await startServer(workspace, settings);
    await session.waitForState((s) => s.state === 'ready');
    const runs = () => session!.states.filter((s) => s.state === 'indexing').length;
    assert.equal(runs(), 1);
    settings.trace = { server: 'verbose' };
    const asked = session.configRequests();
    await session.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
    await waitFor(async () => session!.configRequests() > asked);
    settings.index = { maxFiles: 2 };
    await session.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
    const state = await session.waitForState((s) => s.state === 'ready' && s.files === 2);
    assert.equal(state.files, 2);
    // Handlers run in order, so the trace change was decided before this run: it added none.
    assert.equal(runs(), 2, 'a trace change must not reindex');
  });

  it('picks up files changed on disk through watched-file events', async () => {
    session = await startServer(workspace);
    await session.waitForState((s) => s.state === 'ready');
    const added = path.join(workspace, 'src', 'added.c');
    writeFileSync(added, 'void f(void) { atomic_store(&x, 1); __sync_synchronize(); }\n');
    await session.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: pathToFileURL(added).href, type: FileChangeType.Created }] });
    const state = await session.waitForState((s) => s.files === 4);
    assert.equal(state.atomicCalls, 6);
    rmSync(added);
    await session.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: pathToFileURL(added).href, type: FileChangeType.Deleted }] });
    assert.equal((await session.waitForState((s) => s.files === 3 && s !== state)).atomicCalls, 4);
  });

  it('exits with code 0 on shutdown + exit', async () => {
    session = await startServer(workspace);
    await session.waitForState((s) => s.state === 'ready');
    assert.equal(await session.close(), 0);
    assert.equal(session.stderr(), '');
  });
});

