import * as assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  CodeActionRequest,
  CodeActionResolveRequest,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  TextDocumentEdit,
  type ClientCapabilities,
  type CodeAction,
  type Command,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver-protocol/node';
import { COMPILE_OUT_COMMAND, CompileOutPlanRequest } from '../../protocol/compileOut';
import { FIXTURES, ROOT } from '../support/paths';
import { startServer, type ServerSession } from '../support/lspClient';

const VSCODE_LIKE: ClientCapabilities = {
  textDocument: {
    codeAction: {
      dataSupport: true,
      resolveSupport: { properties: ['edit'] },
      codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix', 'refactor', 'refactor.rewrite'] } },
    },
  },
  workspace: { workspaceEdit: { documentChanges: true, resourceOperations: ['create'] } },
};
/** An older client: no lazy edits, no versioned edits. */
const PLAIN: ClientCapabilities = { textDocument: { codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix', 'refactor'] } } } } };

const isAction = (x: CodeAction | Command): x is CodeAction => 'kind' in x || 'edit' in x || 'data' in x || typeof (x as CodeAction).command === 'object';

/** The files an edit produces, by path, applied to what is on disk (or the open document's text). */
function applyEdit(edit: WorkspaceEdit, texts: (file: string) => string): Map<string, string> {
  const out = new Map<string, string>();
  const apply = (uri: string, edits: TextEdit[]) => {
    const file = fileURLToPath(uri);
    out.set(file, TextDocument.applyEdits(TextDocument.create(uri, 'c', 0, out.get(file) ?? texts(file)), edits));
  };
  for (const c of edit.documentChanges ?? []) if (TextDocumentEdit.is(c)) apply(c.textDocument.uri, c.edits as TextEdit[]);
  for (const [uri, edits] of Object.entries(edit.changes ?? {})) apply(uri, edits);
  return out;
}

describe('compile-out code actions over a real LSP connection (dist/server.js)', function () {
  this.timeout(60_000);
  let workspace: string;
  let session: ServerSession | undefined;

  afterEach(async () => {
    if (session && session.process.exitCode === null) await session.close();
    session = undefined;
    rmSync(workspace, { recursive: true, force: true });
  });

  const open = async (file: string, version = 1, text?: string) => {
    const uri = pathToFileURL(path.join(workspace, file)).href;
    await session!.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'c', version, text: text ?? readFileSync(path.join(workspace, file), 'utf8') } });
    return uri;
  };
  const actionsAt = async (uri: string, line: number, only?: string[]) => {
    const r = await session!.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range: { start: { line: line - 1, character: 0 }, end: { line: line - 1, character: 0 } },
      context: { diagnostics: [], ...(only ? { only } : {}) },
    });
    return (r ?? []).filter(isAction);
  };

  describe('on a copy of allocator/, with a VS Code-like client', () => {
    beforeEach(async () => {
      workspace = mkdtempSync(path.join(tmpdir(), 'alloc-lens-codeactions-'));
      cpSync(path.join(ROOT, 'allocator'), workspace, { recursive: true, filter: (src) => !src.includes(`${path.sep}build`) });
      session = await startServer(workspace, {}, { capabilities: VSCODE_LIKE });
      await session.waitForState((s) => s.state === 'ready', 30_000);
    });

    it('declares code actions with lazy resolution', () => {
      assert.deepEqual(session!.initializeResult.capabilities.codeActionProvider, { codeActionKinds: ['quickfix', 'refactor.rewrite'], resolveProvider: true });
    });

    it('offers the whole-family fix and the named variant on a telemetry atomic; the resolved edit is versioned and wraps every site', async () => {
      const uri = await open('src/quill_malloc.c', 3);
      const actions = await actionsAt(uri, 100);
      assert.deepEqual(
        actions.map((a) => a.title),
        ['Compile out `g_quill_tcache_stats` behind `QUILL_TCACHE_STATS_COMPILED` (11 sites in 3 files)', 'Compile out `g_quill_tcache_stats` behind a flag named…'],
      );
      const [direct, named] = actions;
      assert.equal(direct.kind, 'quickfix');
      assert.equal(direct.isPreferred, true);
      assert.equal(direct.edit, undefined, 'the edit is resolved lazily');
      assert.deepEqual(named.command, { title: named.title, command: COMPILE_OUT_COMMAND, arguments: [{ uri, position: { line: 99, character: 12 } }] });

      const resolved = await session!.connection.sendRequest(CodeActionResolveRequest.type, direct);
      const changes = resolved.edit?.documentChanges ?? [];
      assert.ok(changes.every((c) => TextDocumentEdit.is(c)));
      const versions = Object.fromEntries(changes.filter(TextDocumentEdit.is).map((c) => [path.relative(workspace, fileURLToPath(c.textDocument.uri)), c.textDocument.version]));
      assert.deepEqual(versions, { 'src/quill_build_flags.h': null, 'src/quill_malloc.c': 3, 'src/quill_remote.c': null, 'src/quill_tiny.c': null });
      const after = applyEdit(resolved.edit!, (f) => readFileSync(f, 'utf8'));
      const wraps = [...after.values()].reduce((n, t) => n + t.split('\n').filter((l) => l === '#if QUILL_TCACHE_STATS_COMPILED').length, 0);
      assert.equal(wraps, 11);
      assert.match(after.get(path.join(workspace, 'src/quill_build_flags.h'))!, /#ifndef QUILL_TCACHE_STATS_COMPILED\n# define QUILL_TCACHE_STATS_COMPILED 0\n#endif/);
    });

    it('computes the edit on the open document\'s current text and version (unsaved edits included)', async () => {
      const file = path.join(workspace, 'src/quill_malloc.c');
      const uri = await open('src/quill_malloc.c', 1);
      await session!.connection.sendNotification(DidChangeTextDocumentNotification.type, {
        textDocument: { uri, version: 2 },
        contentChanges: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '/* unsaved line */\n' }],
      });
      // Asked at once: the server must not wait for its debounced rescan to place the sites.
      const [direct] = await actionsAt(uri, 101);
      assert.match(direct.title, /^Compile out `g_quill_tcache_stats`/);
      const resolved = await session!.connection.sendRequest(CodeActionResolveRequest.type, direct);
      const mine = resolved.edit!.documentChanges!.filter(TextDocumentEdit.is).find((c) => fileURLToPath(c.textDocument.uri) === file)!;
      assert.equal(mine.textDocument.version, 2);
      const text = TextDocument.applyEdits(TextDocument.create(uri, 'c', 2, `/* unsaved line */\n${readFileSync(file, 'utf8')}`), mine.edits as TextEdit[]);
      assert.ok(text.includes('            bin->count--;\n#if QUILL_TCACHE_STATS_COMPILED\n            atomic_fetch_add_explicit(&g_quill_tcache_stats[cls].alloc_calls'), text.slice(0, 4000));
    });

    it('offers nothing to compile out on a correctness atomic (the Phase 28 remote_len)', async () => {
      const uri = await open('src/quill_remote.c');
      assert.deepEqual(await actionsAt(uri, 26), []);
      // The next line is telemetry: the actions are per site, not per region.
      assert.equal((await actionsAt(uri, 27)).length, 2);
      // test_env only prints the front ring's counters (it checks the ring by its state): a print
      // is no check, so the direct fix is offered (the fixture case covers a test that checks).
      const ring = await open('src/quill_ring.c');
      assert.deepEqual((await actionsAt(ring, 20)).map((a) => a.title), [
        'Compile out `g_quill_ring_stats` behind `QUILL_RING_STATS_COMPILED` (7 sites in 1 file)',
        'Compile out `g_quill_ring_stats` behind a flag named…',
      ]);
    });

    it('respects `only`, and offers "Remove compile-out wrapper" inside a wrapper', async () => {
      const uri = await open('src/quill_malloc.c');
      assert.deepEqual(await actionsAt(uri, 100, ['refactor']), []);
      const removal = await actionsAt(uri, 102, ['refactor']);
      assert.deepEqual(
        removal.map((a) => `${a.kind} ${a.title}`),
        ['refactor.rewrite Remove compile-out wrapper `QUILL_CLASS_STATS_COMPILED`', 'refactor.rewrite Remove all 2 `QUILL_CLASS_STATS_COMPILED` compile-out wrappers'],
      );
      assert.deepEqual((await actionsAt(uri, 102, ['quickfix'])).map((a) => a.title), [], 'the wrapped site has nothing left to compile out');
      const resolved = await session!.connection.sendRequest(CodeActionResolveRequest.type, removal[0]);
      const after = applyEdit(resolved.edit!, (f) => readFileSync(f, 'utf8'));
      assert.deepEqual([...after.keys()].map((f) => path.relative(workspace, f)), ['src/quill_malloc.c']);
      assert.ok(after.get(path.join(workspace, 'src/quill_malloc.c'))!.includes('            atomic_fetch_add_explicit(&g_quill_tcache_stats[cls].alloc_calls, 1, memory_order_relaxed);\n            atomic_fetch_add_explicit(&g_quill_class_stats[cls].cache_hit, 1, memory_order_relaxed);\n            return b;'));
    });

    it('answers allocLens/compileOutPlan: family, evidence, name validation, and the edit', async () => {
      const uri = await open('src/quill_malloc.c');
      const position = { line: 99, character: 12 };
      const check = await session!.connection.sendRequest(CompileOutPlanRequest.type, { textDocument: { uri }, position, flag: 'QUILL_DIAG_COMPILED', validateOnly: true });
      assert.equal(check.family, 'g_quill_tcache_stats');
      assert.equal(check.target, 'g_quill_tcache_stats[cls].alloc_calls');
      assert.equal(check.classification, 'telemetry');
      assert.equal(check.proposedFlag, 'QUILL_TCACHE_STATS_COMPILED');
      assert.match(check.invalidFlag ?? '', /already a macro \(src\/quill_build_flags\.h:48\)/);
      assert.equal(check.edit, undefined);
      assert.ok(check.evidence.length > 0 && check.evidence.every((e) => (e.kind === 'print' || e.kind === 'print-guard') && e.location.uri.endsWith('/src/quill_stats.c')), JSON.stringify(check.evidence));

      const plan = await session!.connection.sendRequest(CompileOutPlanRequest.type, { textDocument: { uri }, position, flag: 'QUILL_TC_COMPILED' });
      assert.equal(plan.error, null);
      assert.equal(plan.invalidFlag, null);
      assert.equal(plan.wrapped.length, 11);
      assert.ok(plan.header?.endsWith('/src/quill_build_flags.h'));
      const after = applyEdit(plan.edit!, (f) => readFileSync(f, 'utf8'));
      assert.equal(after.size, 4);
      assert.ok([...after.values()].every((t) => !t.includes('QUILL_TCACHE_STATS_COMPILED')) && after.get(path.join(workspace, 'src/quill_build_flags.h'))!.includes('# define QUILL_TC_COMPILED 0'));

      const nothing = await session!.connection.sendRequest(CompileOutPlanRequest.type, { textDocument: { uri }, position: { line: 0, character: 0 } });
      assert.match(nothing.error ?? '', /no atomic write site on line 1/);
      const remoteUri = await open('src/quill_remote.c');
      const correctness = await session!.connection.sendRequest(CompileOutPlanRequest.type, { textDocument: { uri: remoteUri }, position: { line: 25, character: 4 } });
      assert.equal(correctness.classification, 'correctness');
      assert.match(correctness.error ?? '', /must not be compiled out/);
      assert.equal(correctness.edit, undefined);
    });
  });

  describe('on the compile-out fixture, with a client without resolve or documentChanges', () => {
    beforeEach(async () => {
      workspace = mkdtempSync(path.join(tmpdir(), 'alloc-lens-codeactions-'));
      cpSync(path.join(FIXTURES, 'compileout'), workspace, { recursive: true });
      session = await startServer(workspace, {}, { capabilities: PLAIN });
      await session.waitForState((s) => s.state === 'ready', 30_000);
    });

    it('declares no resolve provider, and puts a plain `changes` edit on the action at once', async () => {
      assert.deepEqual(session!.initializeResult.capabilities.codeActionProvider, { codeActionKinds: ['quickfix', 'refactor.rewrite'], resolveProvider: false });
      const uri = await open('src/xa_pool.c');
      const [direct] = await actionsAt(uri, 19);
      assert.equal(direct.title, 'Compile out `g_xa_stats` behind `XA_STATS_COMPILED` (10 sites in 2 files; 8 sites left as they are)');
      assert.equal(direct.edit?.documentChanges, undefined);
      assert.deepEqual(Object.keys(direct.edit?.changes ?? {}).map((u) => path.relative(workspace, fileURLToPath(u))).sort(), ['src/xa_flags.h', 'src/xa_pool.c', 'src/xa_stats.h']);
    });

    it('offers only the confirming command on an unknown atomic, and the plan carries its evidence', async () => {
      const uri = await open('src/xa_pool.c');
      const actions = await actionsAt(uri, 35);
      assert.deepEqual(actions.map((a) => a.title), ['Compile out `g_xa_mystery` behind a flag named… (unknown: review the evidence)']);
      assert.equal(actions[0].command?.command, COMPILE_OUT_COMMAND);
      const plan = await session!.connection.sendRequest(CompileOutPlanRequest.type, { textDocument: { uri }, position: { line: 34, character: 4 }, validateOnly: true });
      assert.equal(plan.classification, 'unknown');
      assert.deepEqual(plan.evidence.map((e) => `${e.kind} ${e.location.range.start.line + 1}`), ['call 34']);
      // No action on a correctness counter, nor in test code.
      assert.deepEqual(await actionsAt(uri, 32), []);
      const testUri = await open('tests/xa_test.c');
      assert.deepEqual(await actionsAt(testUri, 10), []);
      // A telemetry counter that a test reads also goes through the confirmation.
      const tabUri = await open('src/sub/xa_other.c');
      assert.deepEqual((await actionsAt(tabUri, 8)).map((a) => a.title), ['Compile out `g_xa_tab_hits` behind a flag named… (tests read it: review the evidence)']);
    });
  });
});
