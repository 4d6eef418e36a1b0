import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { AtomicReport, AuditReport, EnvGateReport } from '../../core/analysis/report';
import { buildTree, code, profileDescription, type FlagsNode, type FolderInput } from '../../src/views/flagsModel';
import { gateValueUnder, profileChoices } from '../../core/analysis/profiles';
import { ROOT } from '../support/paths';

// The Flags & Gates view's tree and the profile picker's list, from a fake report shaped like the
// server's audit of allocator/ (src/views/flagsModel.ts and profiles.ts are vscode-free).
const ROOT_DIR = '/w/allocator';

function atomic(a: Partial<AtomicReport> & Pick<AtomicReport, 'file' | 'line' | 'target' | 'classification' | 'temperature'>): AtomicReport {
  return {
    column: 5,
    endLine: a.line,
    endColumn: 60,
    function: 'quill_malloc',
    op: 'rmw',
    callee: 'atomic_fetch_add_explicit',
    order: 'memory_order_relaxed',
    base: a.target.split(/[[.]/)[0],
    field: null,
    family: a.target.split(/[[.]/)[0],
    reason: 'only printed or dumped',
    evidence: [],
    temperatureReason: 'entry point',
    guard: null,
    gates: [],
    ...a,
  };
}

const FRONT_RING: EnvGateReport & { presets: unknown[] } = {
  name: 'QUILL_FRONT_RING_ENABLED',
  file: 'src/quill_config.c',
  line: 34,
  column: 21,
  function: 'quill_env_front_ring_enabled',
  default: 'off',
  defaultValue: '0',
  cached: true,
  cachedIn: 'g_quill_front_ring_enabled',
  profiles: { minimal: '0', fast: '1', bench_random_mixed: '0' },
  gatedFunctions: ['quill_ring_alloc', 'quill_ring_free'],
  gatedAtomics: [{ file: 'src/quill_ring.c', line: 20 }],
  presets: [
    { selector: 'QUILL_MODE', profile: 'minimal', value: '0', file: 'src/quill_config.c', line: 90 },
    { selector: 'QUILL_MODE', profile: 'fast', value: '1', file: 'src/quill_config.c', line: 96 },
    { selector: 'QUILL_PROFILE', profile: 'bench_random_mixed', value: '0', file: 'src/quill_config.c', line: 125 },
  ],
};

const TCACHE_MAX: EnvGateReport = {
  name: 'QUILL_TCACHE_MAX',
  file: 'src/quill_config.c',
  line: 44,
  column: 21,
  function: 'quill_env_tcache_max',
  default: 'value',
  defaultValue: '64',
  cached: true,
  cachedIn: 'g_quill_tcache_max',
  profiles: { minimal: '16', fast: '256', larson: '64' },
  gatedFunctions: [],
  gatedAtomics: [],
};

/** The selector itself: QUILL_MODE=fast is what the "fast" presets key on. */
const MODE: EnvGateReport = {
  name: 'QUILL_MODE',
  file: 'src/quill_config.c',
  line: 139,
  column: 24,
  function: 'quill_config_apply_presets',
  default: 'unknown',
  defaultValue: null,
  cached: false,
  cachedIn: null,
  profiles: {},
  gatedFunctions: [],
  gatedAtomics: [],
};

function report(): AuditReport {
  return {
    version: 1,
    root: ROOT_DIR,
    files: 3,
    atomics: [
      atomic({ file: 'src/quill_malloc.c', line: 102, target: 'g_quill_class_stats[cls].cache_hit', classification: 'telemetry', temperature: 'hot', guard: 'QUILL_CLASS_STATS_COMPILED' }),
      atomic({ file: 'src/quill_malloc.c', line: 100, target: 'g_quill_tcache_stats[cls].alloc_calls', classification: 'telemetry', temperature: 'hot' }),
      atomic({ file: 'src/quill_ring.c', line: 20, target: 'g_quill_ring_stats[cls].alloc_calls', classification: 'telemetry', temperature: 'warm', function: 'quill_ring_alloc', gates: ['QUILL_FRONT_RING_ENABLED'] }),
      atomic({ file: 'src/quill_remote.c', line: 26, target: 'owner->remote_len', classification: 'correctness', temperature: 'warm', function: 'quill_remote_free', reason: 'read in a condition at src/quill_tiny.c:219' }),
      atomic({ file: 'src/quill_mid.c', line: 60, target: 'g_mid_misc', classification: 'unknown', temperature: 'cold', function: 'quill_mid_init' }),
    ],
    envGates: [FRONT_RING, MODE, TCACHE_MAX],
    flags: [
      {
        name: 'QUILL_CLASS_STATS_COMPILED',
        file: 'src/quill_build_flags.h',
        line: 38,
        default: '0',
        uses: [
          { file: 'src/quill_malloc.c', line: 101, column: 5 },
          { file: 'src/quill_stats.c', line: 49, column: 5 },
        ],
        enabled: false,
      },
      { name: 'QUILL_BUILD_RELEASE', file: 'src/quill_build_flags.h', line: 19, default: '1', uses: [{ file: 'src/quill_tiny.c', line: 65, column: 6 }], enabled: null },
    ],
    inactiveRegions: [
      { file: 'src/quill_malloc.c', startLine: 102, endLine: 102, condition: 'QUILL_CLASS_STATS_COMPILED' },
      { file: 'src/quill_stats.c', startLine: 50, endLine: 52, condition: 'QUILL_CLASS_STATS_COMPILED' },
    ],
    findings: [],
    skipped: [],
  };
}

const OPTS = { toUri: (p: string) => `file://${p}` };
const folder = (over: Partial<FolderInput> = {}): FolderInput => ({
  name: 'allocator',
  folder: ROOT_DIR,
  profile: '',
  abProfiles: {},
  state: { kind: 'ready', report: report() },
  ...over,
});

const child = (n: FlagsNode | undefined, label: string | RegExp): FlagsNode => {
  const found = n?.children?.find((c) => (typeof label === 'string' ? c.label === label : label.test(c.label)));
  assert.ok(found, `no child ${label} under ${n?.label}: ${n?.children?.map((c) => c.label).join(', ')}`);
  return found;
};

/** The three groups (or messages) under the Profile row of a one-folder tree. */
const groups = (f: FolderInput): FlagsNode[] => {
  const [profile, ...rest] = buildTree([f], OPTS);
  assert.equal(profile.label, 'Profile');
  return rest;
};

function allIds(nodes: FlagsNode[]): string[] {
  return nodes.flatMap((n) => [n.id, ...allIds(n.children ?? [])]);
}

describe('Flags & Gates tree (src/views/flagsModel)', () => {
  it('one folder: the profile, then the three groups, with counts', () => {
    const [profile, ...roots] = buildTree([folder()], OPTS);
    assert.deepEqual([profile.label, profile.description, profile.command], ['Profile', 'none (defaults)', 'allocLens.selectProfile']);
    assert.equal(buildTree([folder({ profile: 'fast' })], OPTS)[0].description, 'fast');
    assert.deepEqual(
      roots.map((r) => [r.label, r.description]),
      [
        ['Compile flags', '2 · 1 compiled out'],
        ['ENV gates', '3 · 1 off by default'],
        ['Atomics', '5 · 3 telemetry'],
      ],
    );
    assert.ok(roots.every((r) => r.expanded));
  });

  it('a flag: default, sites, compiled in/out; its sites say what they compile out and open at the use', () => {
    const [flags] = groups(folder());
    const stats = child(flags, 'QUILL_CLASS_STATS_COMPILED');
    assert.equal(stats.description, 'default 0 · 2 sites · compiled out');
    assert.equal(stats.contextValue, 'flag source');
    assert.deepEqual([stats.folder, stats.flag], [ROOT_DIR, 'QUILL_CLASS_STATS_COMPILED'], 'the node is the argument of allocLens.abRunForFlag');
    assert.deepEqual(stats.source, { path: path.join(ROOT_DIR, 'src/quill_build_flags.h'), line: 37, character: 0 });
    assert.match(stats.tooltip ?? '', /Guards 1 atomic \(1 telemetry\)/);
    const site = child(stats, 'src/quill_stats.c:49');
    assert.equal(site.description, 'compiles out lines 50–52');
    assert.deepEqual(site.source, { path: path.join(ROOT_DIR, 'src/quill_stats.c'), line: 48, character: 4 });
    assert.equal(child(stats, 'src/quill_malloc.c:101').description, 'compiles out line 102');
    assert.equal(child(flags, 'QUILL_BUILD_RELEASE').description, 'default 1 · 1 site · build-dependent');
  });

  it('a gate: its default, the value under the active profile, per-profile values and gated functions', () => {
    const [, gatesNoProfile] = groups(folder());
    assert.equal(child(gatesNoProfile, 'QUILL_FRONT_RING_ENABLED').description, 'default OFF');

    const [, gates] = groups(folder({ profile: 'fast' }));
    assert.equal(gates.description, '3 · 0 off under fast');
    const ring = child(gates, 'QUILL_FRONT_RING_ENABLED');
    assert.equal(ring.description, 'default OFF · fast: ON');
    assert.equal(ring.icon?.id, 'circle-filled');
    const fast = child(ring, 'fast = ON');
    assert.equal(fast.description, 'QUILL_MODE=fast · active');
    assert.equal(fast.icon?.id, 'check');
    assert.deepEqual(fast.source, { path: path.join(ROOT_DIR, 'src/quill_config.c'), line: 95, character: 0 }, 'the preset site');
    assert.equal(child(ring, 'bench_random_mixed = OFF').description, 'QUILL_PROFILE=bench_random_mixed');
    const fn = child(ring, 'quill_ring_alloc');
    assert.equal(fn.description, 'gated · 1 atomic');
    assert.equal(fn.source?.path, path.join(ROOT_DIR, 'src/quill_ring.c'));
    assert.equal(child(ring, 'quill_ring_free').source, undefined, 'no atomic in it: no location to open');
    assert.equal(child(gates, 'QUILL_TCACHE_MAX').description, 'default 64 · fast: 256');
    const mode = child(gates, 'QUILL_MODE');
    assert.equal(mode.description, 'default unknown · fast: fast', 'the selector reads as the profile it selects');
    assert.equal(child(mode, 'fast = fast').description, 'QUILL_MODE=fast · active');
  });

  it('a profile nothing sets for a gate shows the default, and is listed as the active one', () => {
    const [, gates] = groups(folder({ profile: 'larson' }));
    const ring = child(gates, 'QUILL_FRONT_RING_ENABLED');
    assert.equal(ring.description, 'default OFF · larson: OFF');
    assert.equal(ring.icon?.id, 'circle-outline');
    assert.equal(ring.children?.[0].label, 'larson = OFF');
    assert.equal(ring.children?.[0].description, 'not set: the default · active');
  });

  it('atomics by classification, then temperature, then sites in file order with compile-out arguments', () => {
    const [, , atomics] = groups(folder());
    assert.deepEqual(atomics.children?.map((c) => `${c.label} ${c.description}`), ['telemetry 3', 'correctness 1', 'unknown 1']);
    const hot = child(child(atomics, 'telemetry'), 'hot');
    assert.deepEqual(hot.children?.map((c) => c.label), ['g_quill_tcache_stats[cls].alloc_calls', 'g_quill_class_stats[cls].cache_hit']);
    const guarded = hot.children![1];
    assert.equal(guarded.description, 'quill_malloc · quill_malloc.c:102 · #if QUILL_CLASS_STATS_COMPILED');
    assert.equal(guarded.contextValue, 'atomic telemetry guarded source');
    assert.equal(guarded.uri, `file://${path.join(ROOT_DIR, 'src/quill_malloc.c')}`);
    assert.deepEqual(guarded.position, { line: 101, character: 4 }, 'the argument of allocLens.compileOut: LSP uri + 0-based position');
    const correctness = child(child(atomics, 'correctness'), 'warm').children![0];
    assert.equal(correctness.contextValue, 'atomic correctness source');
    assert.match(correctness.tooltip ?? '', /\*\*correctness\*\*: read in a condition at src\/quill\\_tiny\.c:219/);
    assert.equal(child(child(atomics, 'unknown'), 'cold').children![0].contextValue, 'atomic unknown source');
  });

  it('the context menus\' when clauses pick the right items', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const menus = pkg.contributes.menus['view/item/context'] as { command: string; when: string }[];
    const regexOf = (command: string) => {
      const m = /viewItem =~ \/(.*)\/$/.exec(menus.find((x) => x.command === command)!.when);
      assert.ok(m, `${command} has a viewItem regex`);
      return new RegExp(m[1]);
    };
    const nodes = allNodes(buildTree([folder({ profile: 'fast' })], OPTS));
    const matching = (command: string) => [...new Set(nodes.filter((n) => regexOf(command).test(n.contextValue)).map((n) => n.contextValue))].sort();
    assert.deepEqual(matching('allocLens.compileOut'), ['atomic telemetry guarded source', 'atomic telemetry source', 'atomic unknown source']);
    assert.deepEqual(matching('allocLens.abRunForFlag'), ['flag source']);
    assert.ok(nodes.filter((n) => regexOf('allocLens.goToSource').test(n.contextValue)).every((n) => n.source), 'Go to Source only where there is one');
  });

  it('every id is unique, even for two atomics on one line', () => {
    const r = report();
    r.atomics.push({ ...r.atomics[0] });
    const ids = allIds(buildTree([folder({ state: { kind: 'ready', report: r } })], OPTS));
    assert.equal(new Set(ids).size, ids.length);
  });

  it('says why instead of an empty tree: loading, indexing, errors, nothing found', () => {
    assert.deepEqual(groups(folder({ state: { kind: 'loading', indexing: false } })).map((n) => [n.label, n.icon?.id]), [['Loading the analysis…', 'loading~spin']]);
    assert.equal(groups(folder({ state: { kind: 'loading', indexing: true } }))[0].label, 'Indexing C files…');
    const [err] = groups(folder({ state: { kind: 'error', message: 'the server crashed' } }));
    assert.deepEqual([err.label, err.icon?.id, err.command], ['Could not load the analysis: the server crashed', 'error', 'allocLens.showLog']);
    const empty = { ...report(), atomics: [], envGates: [], flags: [] };
    assert.deepEqual(groups(folder({ state: { kind: 'ready', report: empty } })).map((g) => g.children?.map((c) => c.label)), [['No compile flags found'], ['No ENV gates found'], ['No atomics found']]);
  });

  it('several folders: one node per folder with its own profile', () => {
    const roots = buildTree([folder(), folder({ name: 'other', folder: '/w/other', profile: 'fast', state: { kind: 'loading', indexing: false } })], OPTS);
    assert.deepEqual(roots.map((r) => [r.label, r.description, r.children?.map((c) => c.label)]), [
      ['allocator', undefined, ['Compile flags', 'ENV gates', 'Atomics']],
      ['other', 'profile: fast', ['Loading the analysis…']],
    ]);
    assert.equal(profileDescription([{ name: 'a', profile: 'fast' }]), 'profile: fast');
    assert.equal(profileDescription([{ name: 'a', profile: '' }]), 'profile: defaults');
    assert.equal(profileDescription([{ name: 'a', profile: '' }, { name: 'b', profile: 'fast' }]), 'profile: per folder');
    assert.deepEqual(buildTree([], OPTS), []);
  });

  it('markdown code spans survive backticks', () => {
    assert.equal(code('a`b'), '`` a`b ``');
    assert.equal(code('x'), '`x`');
  });
});

function allNodes(nodes: FlagsNode[]): FlagsNode[] {
  return nodes.flatMap((n) => [n, ...allNodes(n.children ?? [])]);
}

describe('profiles (src/views/profiles)', () => {
  it('lists the code\'s presets in source order, then the settings\' profiles, and marks the active one', () => {
    const choices = profileChoices([report()], { bench: { QUILL_MODE: 'fast' } }, 'fast');
    assert.deepEqual(
      choices.map((c) => [c.name, c.sources.join(', '), c.gates, c.active]),
      [
        ['minimal', 'QUILL_MODE preset', 2, false],
        ['fast', 'QUILL_MODE preset', 2, true],
        ['bench_random_mixed', 'QUILL_PROFILE preset', 1, false],
        ['larson', 'preset', 1, false],
        ['bench', 'allocLens.ab.profiles', 2, false],
      ],
    );
  });

  it('keeps an active profile nothing defines, flagged as unknown', () => {
    const choices = profileChoices([report()], {}, 'typo');
    assert.deepEqual(choices.at(-1), { name: 'typo', sources: [], gates: 0, active: true, unknown: true });
  });

  it('a gate\'s value: settings ENV first, then a preset chosen by a selector, then the code\'s preset, then the default', () => {
    assert.deepEqual(gateValueUnder(FRONT_RING, '', {}), { value: '0', source: 'default' });
    assert.equal(gateValueUnder(FRONT_RING, 'fast', {}).value, '1');
    assert.deepEqual(gateValueUnder(FRONT_RING, 'mine', { mine: { QUILL_FRONT_RING_ENABLED: '1' } }), { value: '1', source: 'settings' });
    const viaSelector = gateValueUnder(FRONT_RING, 'bench', { bench: { QUILL_MODE: 'fast' } });
    assert.deepEqual([viaSelector.value, viaSelector.source, viaSelector.via], ['1', 'preset', 'QUILL_MODE=fast']);
    assert.deepEqual(gateValueUnder(TCACHE_MAX, 'nobody', {}), { value: '64', source: 'default' });
  });
});
