// The editor features over a real LSP connection to dist/server.js: inlay hints, hovers, code
// lenses, diagnostics and dimmed regions, their settings, and live updates after edits (also
// across files). Fixture: test/fixtures/editor, whose caret lines name the expected hints.
import * as assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CancellationTokenSource,
  CodeLensRequest,
  DidChangeConfigurationNotification,
  DidChangeTextDocumentNotification,
  DidChangeWatchedFilesNotification,
  DidOpenTextDocumentNotification,
  FileChangeType,
  DiagnosticSeverity,
  HoverRequest,
  InlayHintRequest,
  LSPErrorCodes,
  type ClientCapabilities,
  type Diagnostic,
  type Hover,
  type InlayHint,
  type MarkupContent,
  type Position,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';
import { InactiveRegionsNotification, SHOW_LOCATIONS_COMMAND, type InactiveRegionsParams, type ShowLocationsArgs } from '../../protocol/editor';
import { readCarets } from '../support/carets';
import { startServer, type ServerSession } from '../support/lspClient';
import { FIXTURES, ROOT } from '../support/paths';
import { waitFor } from '../support/wait';

const FULL_CAPABILITIES: ClientCapabilities = {
  workspace: { configuration: true, workspaceFolders: true, inlayHint: { refreshSupport: true }, codeLens: { refreshSupport: true } },
  textDocument: {
    inlayHint: {},
    hover: { contentFormat: ['markdown', 'plaintext'] },
    codeLens: {},
    publishDiagnostics: { relatedInformation: true, codeDescriptionSupport: true },
  },
  experimental: { allocLens: { inactiveRegions: true } },
};

const PUBLISH = 'textDocument/publishDiagnostics';
/** Generous: the machine may be shared; a wait ends as soon as its event arrives. */
const WAIT_MS = 20_000;
const EVERYWHERE = { start: { line: 0, character: 0 }, end: { line: 10_000, character: 0 } };

describe('editor features over a real LSP connection', () => {
  let workspace: string;
  let session: ServerSession | undefined;
  let settings: Record<string, unknown>;

  const uriOf = (rel: string) => pathToFileURL(path.join(workspace, rel)).href;
  const textOf = (rel: string) => readFileSync(path.join(workspace, rel), 'utf8');

  async function start(capabilities: ClientCapabilities = FULL_CAPABILITIES, folder = path.join(FIXTURES, 'editor')) {
    workspace = mkdtempSync(path.join(tmpdir(), 'alloc-lens-editor-'));
    cpSync(folder, workspace, { recursive: true });
    session = await startServer(workspace, settings, { capabilities });
    await session.waitForState((s) => s.state === 'ready', WAIT_MS);
    return session;
  }

  async function open(rel: string, text = textOf(rel)): Promise<string> {
    const uri = uriOf(rel);
    await session!.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'c', version: 1, text } });
    return uri;
  }

  let version = 1;
  /** Replaces [line, character]..[endLine, endCharacter] (0-based) with `text`. */
  async function edit(uri: string, start: Position, end: Position, text: string) {
    await session!.connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: ++version }, contentChanges: [{ range: { start, end }, text }] });
  }

  async function changeSettings(patch: Record<string, unknown>) {
    Object.assign(settings, patch);
    await session!.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
  }

  const hints = async (uri: string) => (await session!.connection.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: EVERYWHERE })) ?? [];
  const hover = (uri: string, position: Position) => session!.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position });
  const lenses = async (uri: string) => (await session!.connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } })) ?? [];
  const value = (h: Hover | null) => (h?.contents as MarkupContent | undefined)?.value ?? '';
  const labelsAt = (hs: InlayHint[], line0: number) => hs.filter((h) => h.position.line === line0).map((h) => h.label as string);

  /** The first diagnostics pushed for `uri` at or after notification index `since` that satisfy `pred`. */
  const diagnostics = (uri: string, pred: (d: Diagnostic[]) => boolean = () => true, since = 0) =>
    session!.waitForNotification<PublishDiagnosticsParams>(PUBLISH, (p) => p.uri === uri && pred(p.diagnostics), { since, timeoutMs: WAIT_MS }).then((p) => p.diagnostics);
  const regions = (uri: string, pred: (p: InactiveRegionsParams) => boolean = () => true, since = 0) =>
    session!.waitForNotification<InactiveRegionsParams>(InactiveRegionsNotification.method, (p) => p.textDocument.uri === uri && pred(p), { since, timeoutMs: WAIT_MS });

  beforeEach(() => {
    settings = {};
    version = 1;
  });
  afterEach(async () => {
    if (session && session.process.exitCode === null) await session.close();
    const stderr = session?.stderr() ?? '';
    session = undefined;
    rmSync(workspace, { recursive: true, force: true });
    assert.equal(stderr, '', 'the server wrote to stderr');
  });

  it('advertises hints, hovers and lenses only to a client that supports them', async () => {
    await start();
    const caps = session!.initializeResult.capabilities;
    assert.deepEqual([caps.inlayHintProvider, caps.hoverProvider, caps.codeLensProvider], [{ resolveProvider: false }, true, { resolveProvider: false }]);
    await session!.close();
    rmSync(workspace, { recursive: true, force: true });
    await start({ workspace: { configuration: true, workspaceFolders: true } });
    const bare = session!.initializeResult.capabilities;
    assert.deepEqual([bare.inlayHintProvider, bare.hoverProvider, bare.codeLensProvider], [undefined, undefined, undefined]);
  });

  it('serves an inlay hint at every atomic and getenv the fixture marks, with UTF-16 positions', async () => {
    await start();
    for (const rel of ['src/edt_hot.c', 'src/edt_config.c']) {
      const text = textOf(rel);
      const uri = await open(rel, text);
      const got = await hints(uri);
      const carets = readCarets(text).filter((c) => /^(hint|gate): /.test(c.kind));
      assert.ok(carets.length >= 3, `${rel} has carets`);
      for (const c of carets) assert.deepEqual(labelsAt(got, c.line - 1), [c.kind.replace(/^(hint|gate): /, '')], `${rel}:${c.line}`);
      assert.equal(got.length, carets.length, JSON.stringify(got.map((h) => [h.position.line + 1, h.label])));
    }
    // A hint sits at the end of its line; the line with a non-ASCII comment before the atomic
    // counts UTF-16 units (bytes would put it 8 characters further right).
    const text = textOf('src/edt_hot.c');
    const line0 = text.split('\n').findIndex((l) => l.includes('/* compté'));
    const lineText = text.split('\n')[line0];
    assert.notEqual(Buffer.byteLength(lineText), lineText.length);
    const hint = (await hints(uriOf('src/edt_hot.c'))).find((h) => h.position.line === line0)!;
    assert.equal(hint.position.character, lineText.length);
    const h = await hover(uriOf('src/edt_hot.c'), { line: line0, character: lineText.indexOf('atomic_fetch_add') + 3 });
    assert.deepEqual(h?.range?.start, { line: line0, character: lineText.indexOf('atomic_fetch_add') });
    assert.deepEqual(h?.range?.end, { line: line0, character: lineText.indexOf(';', lineText.indexOf('atomic_fetch_add')) });
  });

  it('hovers an atomic with its evidence as links, temperature, guard and gates', async () => {
    await start();
    const text = textOf('src/edt_hot.c');
    const uri = await open('src/edt_hot.c', text);
    const lines = text.split('\n');
    const at = (needle: string, nth = 0): Position => {
      const line = lines.findIndex((l) => l.includes(needle));
      return { line, character: lines[line].indexOf(needle) + nth };
    };
    const ring = value(await hover(uri, at('atomic_fetch_add_explicit(&g_edt_stats.ring_calls', 5)));
    assert.match(ring, /^\*\*telemetry · hot\*\*: rmw on `g_edt_stats.ring_calls`/);
    assert.match(ring, /only printed or dumped/);
    const stats = pathToFileURL(path.join(workspace, 'src/edt_stats.c')).href;
    assert.ok(ring.includes(`[src/edt_stats.c:10](${stats}#L10,`), ring);
    assert.match(ring, /\*\*Temperature hot\*\*: called from edt_alloc/);
    assert.match(ring, /\*\*Guard\*\*: none/);
    assert.match(ring, /\*\*Gates\*\*: `EDT_RING_ENABLED` \(default OFF\)/);
    assert.match(ring, /this path does not run in the default configuration/);

    const hits = value(await hover(uri, at('atomic_fetch_add_explicit(&g_edt_stats.hits', 1)));
    assert.match(hits, /^\*\*compiled out: EDT_STATS_COMPILED\*\*/);
    assert.match(hits, /\*\*Guard\*\* `#if EDT_STATS_COMPILED` \(default 0\): compiled out in the current build/);

    const queue = value(await hover(uri, at('atomic_fetch_add_explicit(&g_edt_queue_len', 1)));
    assert.match(queue, /^\*\*correctness \(read in condition\)\*\*/);
    assert.match(queue, /condition in `edt_alloc`: \[src\/edt_hot.c:24\]/);

    // Flags and gates by name; nothing on blank space or past the end.
    const flag = value(await hover(uri, at('EDT_STATS_COMPILED', 2)));
    assert.match(flag, /^\*\*EDT_STATS_COMPILED\*\*: compile flag, default `0`/);
    assert.match(flag, /compiles it out/);
    assert.match(flag, /Uses \(1\):\n\n- \[src\/edt_hot.c:20\]/);
    assert.match(flag, /Guards 1 atomic \(1 telemetry\)/);
    const gate = value(await hover(uri, at('edt_ring_enabled()', 0)));
    assert.equal(gate, '', 'a getter call is not the gate itself');
    const config = await open('src/edt_config.c');
    const cfg = textOf('src/edt_config.c').split('\n');
    const cacheLine = cfg.findIndex((l) => l.startsWith('int g_edt_ring_enabled'));
    const byCache = value(await hover(config, { line: cacheLine, character: 8 }));
    assert.match(byCache, /^\*\*EDT_RING_ENABLED\*\*: ENV gate, default OFF \(when unset\)/);
    assert.match(byCache, /cached in `g_edt_ring_enabled`/);
    assert.match(byCache, /Gates 1 function \(1 atomic\): `edt_ring_path`/);
    assert.match(byCache, /\| \(default\) \| OFF \|\n\| fast \| ON \|/);
    const nameLine = cfg.findIndex((l) => l.includes('getenv("EDT_RING_ENABLED")'));
    assert.equal(value(await hover(config, { line: nameLine, character: cfg[nameLine].indexOf('EDT_RING') + 4 })), byCache);
    assert.equal(await hover(uri, { line: 1, character: 0 }), null);
    assert.equal(await hover(uri, { line: 5000, character: 99 }), null);
  });

  it('puts code lenses on functions with atomics and on flag defaults, with their commands', async () => {
    await start();
    const hot = await open('src/edt_hot.c');
    const got = await lenses(hot);
    const titles = got.map((l) => `${l.range.start.line + 1} ${l.command?.title}`);
    assert.deepEqual(titles, ['6 1 atomic: 1 telemetry (1 not compiled out)', '16 3 atomics: 2 telemetry (1 not compiled out) · 1 correctness', '31 1 atomic: 1 telemetry (1 not compiled out)']);
    const alloc = got[1].command!;
    assert.equal(alloc.command, SHOW_LOCATIONS_COMMAND);
    const [uri, position, locations] = alloc.arguments as ShowLocationsArgs;
    assert.equal(uri, hot);
    assert.deepEqual(position, { line: 15, character: 0 });
    assert.deepEqual(locations.map((l) => [l.uri, l.range.start.line + 1]), [[hot, 17], [hot, 21], [hot, 25]]);

    const flags = await open('src/edt_flags.h');
    const flagLenses = (await lenses(flags)).map((l) => [l.range.start.line + 1, l.command?.title, l.command?.command, l.command?.arguments]);
    assert.deepEqual(flagLenses, [
      [5, '1 site · default 0', SHOW_LOCATIONS_COMMAND, [flags, { line: 4, character: 0 }, [{ uri: hot, range: { start: { line: 19, character: 4 }, end: { line: 19, character: 22 } } }]]],
      [5, 'A/B this flag', 'allocLens.abRunForFlag', [{ folder: workspace, flag: 'EDT_STATS_COMPILED' }]],
      [9, '0 sites · default 0', SHOW_LOCATIONS_COMMAND, [flags, { line: 8, character: 0 }, []]],
      [9, 'A/B this flag', 'allocLens.abRunForFlag', [{ folder: workspace, flag: 'EDT_UNUSED_COMPILED' }]],
    ]);
  });

  it('publishes every finding as a diagnostic with its rule, source, docs link and related sites', async () => {
    await start();
    const hot = uriOf('src/edt_hot.c');
    const got = await diagnostics(hot);
    assert.deepEqual(
      got.map((d) => [d.range.start.line + 1, d.code, d.severity, d.source]),
      [
        [7, 'gate-off-by-default', DiagnosticSeverity.Information, 'alloc-lens'],
        [17, 'telemetry-not-compiled-out', DiagnosticSeverity.Information, 'alloc-lens'],
        [32, 'release-hygiene', DiagnosticSeverity.Information, 'alloc-lens'],
        [33, 'telemetry-not-compiled-out', DiagnosticSeverity.Information, 'alloc-lens'],
        [35, 'undefaulted-flag', DiagnosticSeverity.Information, 'alloc-lens'],
      ],
    );
    const gate = got[0];
    assert.match(gate.message, /this path does not run in the default configuration/);
    assert.deepEqual(gate.relatedInformation?.map((r) => [r.location.uri, r.location.range.start.line + 1]), [[uriOf('src/edt_config.c'), 8]]);
    assert.ok(got[1].relatedInformation?.some((r) => r.location.uri === uriOf('src/edt_stats.c') && r.message === 'read (print) in edt_stats_dump'), JSON.stringify(got[1].relatedInformation));
    // The docs link is the file shipped next to dist/, with an anchor per rule.
    const docs = readFileSync(path.join(ROOT, 'docs', 'diagnostics.md'), 'utf8');
    for (const d of got) {
      const href = d.codeDescription?.href ?? '';
      const [file, anchor] = href.split('#');
      assert.equal(fileURLToPath(file), path.join(ROOT, 'docs', 'diagnostics.md'));
      assert.equal(anchor, d.code);
      assert.ok(docs.includes(`<a id="${anchor}"></a>`), `docs/diagnostics.md has an anchor for ${anchor}`);
    }
    assert.deepEqual((await diagnostics(uriOf('src/edt_flags.h'))).map((d) => [d.range.start.line + 1, d.code]), [[9, 'unused-flag']]);
    // Files without findings get none.
    assert.ok(!session!.notifications.some((n) => n.method === PUBLISH && (n.params as PublishDiagnosticsParams).uri === uriOf('src/edt_stats.c')));
    // Open, the ranges narrow to the code: the atomic, the call, the flag's name.
    const since = session!.notifications.length;
    await open('src/edt_hot.c');
    const opened = await diagnostics(hot, (d) => d[2]?.range.start.character === 4 && d[2].range.end.line === 31, since);
    assert.deepEqual(opened[2].range, { start: { line: 31, character: 4 }, end: { line: 31, character: 19 } });
    assert.deepEqual(opened[4].range, { start: { line: 34, character: 7 }, end: { line: 34, character: 18 } });
  });

  it('takes the severity from the settings, per rule, and drops rules set to off', async () => {
    settings = { diagnostics: { severity: 'warning', rules: { 'gate-off-by-default': 'hint', 'undefaulted-flag': 'off' } } };
    await start();
    const got = await diagnostics(uriOf('src/edt_hot.c'));
    assert.deepEqual(
      got.map((d) => [d.code, d.severity]),
      [
        ['gate-off-by-default', DiagnosticSeverity.Hint],
        ['telemetry-not-compiled-out', DiagnosticSeverity.Warning],
        ['release-hygiene', DiagnosticSeverity.Warning],
        ['telemetry-not-compiled-out', DiagnosticSeverity.Warning],
      ],
    );
  });

  it('turns each feature off with its setting, live', async () => {
    await start();
    const uri = await open('src/edt_hot.c');
    await regions(uri, (p) => p.regions.length > 0);
    await diagnostics(uri, (d) => d.length > 0);
    assert.ok((await hints(uri)).length > 0);
    assert.ok((await lenses(uri)).length > 0);
    assert.notEqual(await hover(uri, { line: 6, character: 6 }), null);

    const since = session!.notifications.length;
    const refreshes = session!.serverRequests.length;
    await changeSettings({ inlayHints: { enable: false }, hover: { enable: false }, codeLens: { enable: false }, diagnostics: { enable: false }, inactiveRegions: { enable: false } });
    await diagnostics(uri, (d) => d.length === 0, since);
    await diagnostics(uriOf('src/edt_flags.h'), (d) => d.length === 0, since);
    await regions(uri, (p) => p.regions.length === 0, since);
    assert.deepEqual(await hints(uri), []);
    assert.deepEqual(await lenses(uri), []);
    assert.equal(await hover(uri, { line: 6, character: 6 }), null);
    // The client was asked to re-request what it shows.
    const asked = session!.serverRequests.slice(refreshes).map((r) => r.method);
    assert.ok(asked.includes('workspace/inlayHint/refresh') && asked.includes('workspace/codeLens/refresh'), asked.join());
  });

  it('shows gate values and dims gated-off code under the active profile', async () => {
    await start();
    const config = await open('src/edt_config.c');
    const hot = await open('src/edt_hot.c');
    const gateLine = textOf('src/edt_config.c').split('\n').findIndex((l) => l.includes('getenv("EDT_RING_ENABLED")'));
    assert.deepEqual(labelsAt(await hints(config), gateLine), ['default OFF']);
    const dimmed = await regions(hot, (p) => p.regions.some((r) => r.kind === 'gate'));
    assert.deepEqual(
      dimmed.regions.map((r) => [r.kind, r.range.start.line + 1, r.range.end.line + 1, r.reason]),
      [
        ['gate', 7, 9, 'EDT_RING_ENABLED is off by default'],
        ['preprocessor', 21, 22, '#if EDT_STATS_COMPILED (0)'],
        ['preprocessor', 36, 36, '#if defined(EDT_MYSTERY)'],
      ],
    );

    const since = session!.notifications.length;
    await changeSettings({ profile: 'fast' });
    const fast = await regions(hot, (p) => !p.regions.some((r) => r.kind === 'gate'), since);
    assert.deepEqual(fast.regions.map((r) => r.kind), ['preprocessor', 'preprocessor']);
    assert.deepEqual(labelsAt(await hints(config), gateLine), ['default OFF · fast: ON']);
    const modeLine = textOf('src/edt_config.c').split('\n').findIndex((l) => l.includes('getenv("EDT_MODE")'));
    assert.deepEqual(labelsAt(await hints(config), modeLine), ['profile selector · fast']);
    assert.match(value(await hover(config, { line: gateLine, character: 33 })), /\| fast \(active\) \| ON \|/);
    // The hover on the gated atomic no longer says it does not run.
    assert.doesNotMatch(value(await hover(hot, { line: 6, character: 6 })), /does not run/);

    // Dimming of gated code has its own switch; compile-out dimming stays.
    const later = session!.notifications.length;
    await changeSettings({ profile: '', inactiveRegions: { gatedOff: false } });
    const off = await regions(hot, undefined, later);
    assert.deepEqual(off.regions.map((r) => r.kind), ['preprocessor', 'preprocessor']);
  });

  it('reads a profile from allocLens.ab.profiles like the Flags & Gates view: its ENV, or the preset its selector picks', async () => {
    await start();
    const config = await open('src/edt_config.c');
    const hot = await open('src/edt_hot.c');
    const gateLine = textOf('src/edt_config.c').split('\n').findIndex((l) => l.includes('getenv("EDT_RING_ENABLED")'));
    await changeSettings({ profile: 'ring-on', ab: { profiles: { 'ring-on': { EDT_RING_ENABLED: '1' }, 'via-mode': { EDT_MODE: 'fast' } } } });
    await waitFor(async () => labelsAt(await hints(config), gateLine)[0] === 'default OFF · ring-on: ON', WAIT_MS);
    const since = session!.notifications.length;
    await changeSettings({ profile: 'via-mode' });
    await waitFor(async () => labelsAt(await hints(config), gateLine)[0] === 'default OFF · via-mode: ON', WAIT_MS);
    const dimmed = await regions(hot, undefined, since);
    assert.deepEqual(dimmed.regions.map((r) => r.kind), ['preprocessor', 'preprocessor'], 'the ring runs under via-mode: its code is not dimmed');
  });

  it('updates hints of the edited document as soon as they are asked for after typing', async () => {
    await start();
    const text = textOf('src/edt_hot.c');
    const uri = await open('src/edt_hot.c', text);
    const line = text.split('\n').findIndex((l) => l.includes('free(p);'));
    await edit(uri, { line, character: 0 }, { line, character: 0 }, '    atomic_fetch_add_explicit(&g_edt_stats.calls, 2, memory_order_relaxed);\n');
    // No waiting: the request applies the pending edit first.
    assert.deepEqual(labelsAt(await hints(uri), line), ['telemetry · hot']);
    assert.deepEqual(labelsAt(await hints(uri), line + 1), [], 'the old line moved down');
    const lens = (await lenses(uri)).find((l) => l.range.start.line === 30);
    assert.equal(lens?.command?.title, '2 atomics: 2 telemetry (2 not compiled out)');
    // Its diagnostics follow, pushed.
    await diagnostics(uri, (d) => d.some((x) => x.range.start.line === line && x.code === 'telemetry-not-compiled-out'));
  });

  it('reclassifies an atomic in one file when a read in another changes, and pushes the change', async () => {
    await start();
    const hot = await open('src/edt_hot.c');
    const statsText = textOf('src/edt_stats.c');
    const stats = await open('src/edt_stats.c', statsText);
    const callsLine = textOf('src/edt_hot.c').split('\n').findIndex((l) => l.includes('&g_edt_stats.calls'));
    assert.deepEqual(labelsAt(await hints(hot), callsLine), ['telemetry · hot']);
    await diagnostics(hot, (d) => d.some((x) => x.range.start.line === callsLine && x.code === 'telemetry-not-compiled-out'));

    const since = session!.notifications.length;
    const refreshes = session!.serverRequests.length;
    // The program starts to depend on the counter: a read in a condition makes it correctness.
    const at = statsText.split('\n').length - 1;
    await edit(stats, { line: at, character: 0 }, { line: at, character: 0 }, 'int g_edt_throttled;\nvoid edt_throttle(void) {\n    if (atomic_load(&g_edt_stats.calls) > 100) g_edt_throttled = 1;\n}\n');
    const after = await diagnostics(hot, (d) => !d.some((x) => x.range.start.line === callsLine), since);
    assert.ok(after.some((x) => x.code === 'gate-off-by-default'), 'the other findings stay');
    assert.ok(session!.serverRequests.slice(refreshes).some((r) => r.method === 'workspace/inlayHint/refresh'));
    assert.deepEqual(labelsAt(await hints(hot), callsLine), ['correctness (read in condition)']);
    assert.match(value(await hover(hot, { line: callsLine, character: 30 })), new RegExp(`condition in \`edt_throttle\`: \\[src/edt_stats.c:${at + 3}\\]`));
  });

  it('sends dimmed regions only to a client that asks for them, and keeps them in step with edits', async () => {
    await start({ ...FULL_CAPABILITIES, experimental: { allocLens: {} } });
    const hot = await open('src/edt_hot.c');
    await diagnostics(hot, (d) => d[2]?.range.start.character === 4);
    assert.ok(!session!.notifications.some((n) => n.method === InactiveRegionsNotification.method));
    await session!.close();
    rmSync(workspace, { recursive: true, force: true });

    await start();
    const uri = await open('src/edt_hot.c');
    const first = await regions(uri, (p) => p.regions.some((r) => r.kind === 'preprocessor'));
    const markerLine = textOf('src/edt_hot.c').split('\n')[21];
    assert.deepEqual(first.regions.find((r) => r.kind === 'preprocessor')!.range, { start: { line: 20, character: 0 }, end: { line: 21, character: markerLine.length } });
    // Two lines inserted above move the region down.
    const since = session!.notifications.length;
    await edit(uri, { line: 4, character: 0 }, { line: 4, character: 0 }, '// one\n// two\n');
    const moved = await regions(uri, (p) => p.regions.some((r) => r.kind === 'preprocessor' && r.range.start.line === 22), since);
    assert.equal(moved.regions.length, 3);
    // A configured define compiles the block in: its region goes.
    const later = session!.notifications.length;
    await changeSettings({ analysis: { defines: ['EDT_STATS_COMPILED=1'] } });
    const defined = await regions(uri, (p) => !p.regions.some((r) => r.reason.includes('EDT_STATS_COMPILED')), later);
    assert.deepEqual(defined.regions.map((r) => r.reason), ['EDT_RING_ENABLED is off by default', '#if defined(EDT_MYSTERY)']);
    const hitsLine = 22; // line 21 of the file, two lines down
    assert.deepEqual(labelsAt(await hints(uri), hitsLine), ['telemetry · hot · #if EDT_STATS_COMPILED']);
  });

  it('answers odd requests with nothing: unknown uris, files outside the folders, positions past the end, broken C', async () => {
    await start();
    const outside = mkdtempSync(path.join(tmpdir(), 'alloc-lens-outside-'));
    try {
      cpSync(path.join(workspace, 'src', 'edt_hot.c'), path.join(outside, 'edt_hot.c'));
      const loose = pathToFileURL(path.join(outside, 'edt_hot.c')).href;
      await session!.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: loose, languageId: 'c', version: 1, text: textOf('src/edt_hot.c') } });
      for (const uri of ['untitled:Untitled-1', 'file://remote-host/share/x.c', 'file:///nowhere/at/all.c', loose, uriOf('src/missing.c')]) {
        assert.deepEqual(await hints(uri), [], uri);
        assert.deepEqual(await lenses(uri), [], uri);
        assert.equal(await hover(uri, { line: 0, character: 0 }), null, uri);
      }
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
    const broken = await open('src/edt_broken.c');
    assert.ok(Array.isArray(await hints(broken)));
    assert.ok(Array.isArray(await lenses(broken)));
    assert.equal(await hover(broken, { line: 3, character: 5 }), null);
    const hot = await open('src/edt_hot.c');
    assert.equal(await hover(hot, { line: 99_999, character: 99_999 }), null);
    assert.equal(await hover(hot, { line: -1, character: -5 } as Position), null);
    const far = await session!.connection.sendRequest(InlayHintRequest.type, { textDocument: { uri: hot }, range: { start: { line: 5000, character: 0 }, end: { line: 6000, character: 0 } } });
    assert.deepEqual(far, []);
    // Garbage typed into the document breaks nothing either.
    await edit(hot, { line: 10, character: 0 }, { line: 10, character: 0 }, '#if (( \n } } atomic_fetch_add( ;;\n"unterminated\n');
    assert.ok(Array.isArray(await hints(hot)));
    // A request cancelled before it runs is refused or answered empty, and the server goes on.
    const cts = new CancellationTokenSource();
    const pending = session!.connection.sendRequest(InlayHintRequest.type, { textDocument: { uri: hot }, range: EVERYWHERE }, cts.token);
    cts.cancel();
    await pending.then(
      (r) => assert.ok(Array.isArray(r)),
      (err: { code?: number }) => assert.equal(err.code, LSPErrorCodes.RequestCancelled),
    );
    assert.ok((await hints(hot)).length > 0);
    // Odd documents opened and edited: their debounced re-analysis (one "ready" each, and
    // nothing else is pending now) must not trip over them.
    const ready = () => session!.states.filter((st) => st.state === 'ready').length;
    const before = ready();
    for (const uri of ['untitled:Untitled-1', 'file://remote-host/share/x.c']) {
      await session!.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'c', version: 1, text: textOf('src/edt_hot.c') } });
      await edit(uri, { line: 0, character: 0 }, { line: 0, character: 0 }, '// x\n');
    }
    await waitFor(() => ready() >= before + 2, WAIT_MS);
    assert.ok((await hints(hot)).length > 0, 'the server still answers');
  });

  it('clears the diagnostics of a file deleted on disk and updates the files that depended on it', async () => {
    await start();
    const flags = uriOf('src/edt_flags.h');
    const hot = uriOf('src/edt_hot.c');
    await diagnostics(flags, (d) => d.length === 1);
    const since = session!.notifications.length;
    rmSync(path.join(workspace, 'src', 'edt_flags.h'));
    await session!.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: flags, type: FileChangeType.Deleted }] });
    await diagnostics(flags, (d) => d.length === 0, since);
    // Without its default, EDT_STATS_COMPILED is a flag nobody defines.
    const after = await diagnostics(hot, (d) => d.some((x) => x.code === 'undefaulted-flag' && x.message.startsWith('EDT_STATS_COMPILED')), since);
    assert.ok(after.length > 0);
  });

  it('shows quill as the seeds describe it: the Phase 29 gate, the compile-out flags, the dimmed code', async () => {
    await start(FULL_CAPABILITIES, path.join(ROOT, 'allocator'));
    const ring = await open('src/quill_ring.c');
    const diags = await diagnostics(ring);
    assert.ok(diags.length >= 6 && diags.every((d) => d.code === 'gate-off-by-default'), JSON.stringify(diags.map((d) => d.code)));
    assert.ok(diags.every((d) => d.message.includes('this path does not run in the default configuration')));
    const dimmed = await regions(ring, (p) => p.regions.length > 0);
    assert.ok(dimmed.regions.every((r) => r.kind === 'gate' && r.reason === 'QUILL_FRONT_RING_ENABLED is off by default'));
    const flags = await open('src/quill_build_flags.h');
    const titles = (await lenses(flags)).map((l) => l.command?.title);
    assert.ok(titles.includes('3 sites · default 0'), titles.join(' | '));
    const malloc = await open('src/quill_malloc.c');
    const labels = (await hints(malloc)).map((h) => h.label);
    assert.ok(labels.includes('compiled out: QUILL_CLASS_STATS_COMPILED'), labels.join(' | '));
    assert.ok(labels.includes('telemetry · hot'));
    assert.ok(existsSync(path.join(ROOT, 'docs', 'diagnostics.md')));
  });
});
