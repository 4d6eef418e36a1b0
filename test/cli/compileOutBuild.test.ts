// The proof that the compile-out fix compiles: on a copy of allocator/, every telemetry family
// that is not compiled out yet is wrapped (through core, as the server would, re-analysing after
// each family like a user applying the fixes one after the other); then quill is built with the
// new flags at 0 and at 1 under -Wall -Wextra -Werror and its quick tests run on both builds.
// Also: the caret fixture's edited files compile warning-free, and the callgrind instruction count
// of the default build against the all-compiled-out build is measured and printed (not asserted).
import * as assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { globSync } from 'tinyglobby';
import { defaultAnalysisOptions, globToRegExp } from '../../core/analysis/options';
import { WorkspaceAnalysis } from '../../core/analysis/workspaceAnalysis';
import { familyClassification, planCompileOut, type CompileOutPlan } from '../../core/edits/compileOut';
import { applyTextEdits } from '../../core/edits/textEdits';
import { CParser } from '../../core/parsing/cParser';
import { FIXTURES, ROOT, nodeModulesWasm } from '../support/paths';

const STRICT = ['-Wall', '-Wextra', '-Werror'];

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  // argv arrays only: flag names never pass through a shell.
  return spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', maxBuffer: 64 << 20 });
}

function requireTool(cmd: string, pkg: string): void {
  const r = run(cmd, ['--version']);
  if (r.error || r.status !== 0) throw new Error(`${cmd} is needed for the compile-out build proof and is missing or broken (${r.error?.message ?? r.stderr}): apt-get install -y ${pkg}`);
}

/** A folder of C files held in memory and on disk, analysed like the server analyses one. */
class Folder {
  readonly texts = new Map<string, string>();
  constructor(readonly root: string) {
    for (const f of globSync(['**/*.c', '**/*.h'], { cwd: root, ignore: ['build/**', 'out-*/**'] }).sort()) this.texts.set(f, readFileSync(path.join(root, f), 'utf8'));
  }

  plan(parser: CParser, family: string, flag?: string): CompileOutPlan {
    const wa = new WorkspaceAnalysis(parser);
    for (const [f, t] of this.texts) wa.setFile(path.join(this.root, f), t);
    const tests = defaultAnalysisOptions().ignoreReadsIn.map(globToRegExp);
    return planCompileOut({
      parser,
      source: { files: () => [...this.texts.keys()], read: (f) => (this.texts.has(f) ? { text: this.texts.get(f)!, version: null } : undefined) },
      report: wa.report(defaultAnalysisOptions(), this.root),
      family,
      flag,
      isTestFile: (f) => tests.some((t) => t.test(f)),
    });
  }

  apply(plan: CompileOutPlan): void {
    for (const e of plan.edits) {
      const text = applyTextEdits(e.create ? '' : this.texts.get(e.file)!, e.edits);
      this.texts.set(e.file, text);
      writeFileSync(path.join(this.root, e.file), text);
    }
  }
}

function callgrindIr(binary: string, args: string[]): number | null {
  const out = path.join(path.dirname(binary), 'callgrind.out');
  const r = run('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, binary, ...args]);
  const m = /Collected : (\d+)/.exec(r.stderr ?? '');
  return r.status === 0 && m ? Number(m[1]) : null;
}

describe('compile-out build proof (gcc + make on a copy of allocator/)', function () {
  this.timeout(20 * 60_000);
  let parser: CParser;
  let dir: string;
  let copy: Folder;
  const flags = new Map<string, string>();
  let ringNotes: string[] = [];

  before(async () => {
    requireTool('make', 'make');
    requireTool('cc', 'gcc');
    parser = await CParser.create(nodeModulesWasm());
    dir = mkdtempSync(path.join(tmpdir(), 'alloc-lens-compileout-'));
    cpSync(path.join(ROOT, 'allocator'), dir, { recursive: true, filter: (src) => !src.split(path.sep).includes('build') });
    copy = new Folder(dir);
  });
  after(() => {
    parser?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('wraps every telemetry family that is not compiled out yet, and a second run edits nothing', () => {
    const wa = new WorkspaceAnalysis(parser);
    for (const [f, t] of copy.texts) wa.setFile(path.join(dir, f), t);
    const report = wa.report(defaultAnalysisOptions(), dir);
    const families = [...new Set(report.atomics.map((a) => a.family))].filter((fam) => familyClassification(report.atomics.filter((a) => a.family === fam)).classification === 'telemetry').sort();
    const summary: string[] = [];
    for (const family of families) {
      const plan = copy.plan(parser, family);
      if (plan.error && !plan.wrapped.length) {
        // Already compiled out everywhere, or only the tests' own counters: nothing to wrap.
        assert.match(plan.error, /compiled out already|only written in test or benchmark code/, `${family}: ${plan.error}`);
        summary.push(`${family}: not wrapped (${plan.error})`);
        continue;
      }
      assert.equal(plan.error, null, `${family}: ${plan.error}`);
      assert.deepEqual(plan.skipped, [], `${family}: every quill site can be wrapped`);
      copy.apply(plan);
      flags.set(family, plan.flag);
      if (family === 'g_quill_ring_stats') ringNotes = plan.notes;
      summary.push(`${family}: ${plan.wrapped.length} sites behind ${plan.flag}${plan.alreadyWrapped.length ? `, ${plan.alreadyWrapped.length} already behind ${[...new Set(plan.alreadyWrapped.map((a) => a.flag))].join(', ')}` : ''}${plan.notes.length ? `; ${plan.notes.join('; ')}` : ''}`);
    }
    console.log(`      ${summary.join('\n      ')}`);
    assert.deepEqual([...flags.keys()], ['g_quill_diag', 'g_quill_mid_stats', 'g_quill_os_stats', 'g_quill_refill_stats', 'g_quill_ring_stats', 'g_quill_tcache_stats']);
    assert.equal(flags.get('g_quill_tcache_stats'), 'QUILL_TCACHE_STATS_COMPILED');
    for (const [family, flag] of flags) {
      const again = copy.plan(parser, family, flag);
      assert.deepEqual(again.edits, [], `${family}: the second run must not edit`);
      assert.equal(again.wrapped.length, 0);
    }
  });

  for (const value of ['0', '1']) {
    it(`builds with every new flag at ${value} under -Wall -Wextra -Werror, and the quick tests pass`, () => {
      assert.ok(flags.size > 0, 'the wrapping test must run first');
      const out = path.join(dir, `out-${value}`);
      const cflags = [...STRICT, ...[...flags.values()].map((f) => `-D${f}=${value}`)].join(' ');
      const build = run('make', ['-C', dir, '-j2', `OUT=${out}`, `EXTRA_CFLAGS=${cflags}`]);
      const log = `${build.stdout}${build.stderr}`;
      assert.equal(build.status, 0, `make failed:\n${log.slice(-4000)}`);
      assert.doesNotMatch(log, /warning:/, 'warning-free');
      // The build really used -Werror and the flags: make's stamp of the compiler command line.
      const stamp = readFileSync(path.join(out, '.flags'), 'utf8');
      for (const f of [...STRICT, ...[...flags.values()].map((x) => `-D${x}=${value}`)]) assert.ok(stamp.includes(f), `${f} missing from ${stamp}`);

      // And the flags took effect: quill's own stats dump, from the shared library preloaded
      // (a static link drops quill_stats.o when nothing references the counters any more).
      const dump = run(path.join(out, 'bench_random_mixed_system'), ['20000', '256', '1'], { env: { ...process.env, LD_PRELOAD: path.join(out, 'libquill.so'), QUILL_STATS_DUMP: '1' } });
      assert.equal(dump.status, 0, dump.stderr);
      if (value === '0') {
        assert.match(dump.stderr, /\[quill\] os: init=0 commits=0 mmap=0 /, dump.stderr);
        assert.doesNotMatch(dump.stderr, /\[quill\] tiny\[/, dump.stderr);
      } else {
        assert.match(dump.stderr, /\[quill\] os: init=1 /, dump.stderr);
        assert.match(dump.stderr, /\[quill\] tiny\[ *\d+\].* alloc=[1-9]/, dump.stderr);
      }

      // The statically linked bench dumps too: the exit-time dump lives in quill_config.c, which
      // is always linked, so quill_stats.o comes along even with every counter write compiled out.
      const staticDump = run(path.join(out, 'bench_random_mixed_quill'), ['20000', '256', '1'], { env: { ...process.env, QUILL_STATS_DUMP: '1' } });
      assert.equal(staticDump.status, 0, staticDump.stderr);
      assert.match(staticDump.stderr, value === '0' ? /\[quill\] os: init=0 / : /\[quill\] os: init=1 /, staticDump.stderr);

      // The quick tests: quill's own `make check` (test_api, test_stress, test_env of this OUT),
      // then the release-build steps of scripts/run_tests.sh (ENV gate and preset cases, a benchmark
      // line). `make test` adds sanitizer, debug and LD_PRELOAD builds (minutes on a shared
      // 2-core machine) and checks the README pattern map's line numbers, which the fix moves.
      const check = run('make', ['-C', dir, `OUT=${out}`, `EXTRA_CFLAGS=${cflags}`, 'check']);
      assert.equal(check.status, 0, `make check failed (flags at ${value}):\n${check.stdout}${check.stderr}`);
      for (const t of ['test_api', 'test_stress', 'test_env']) assert.match(check.stdout, new RegExp(`== .*/tests/${t}\\n`), check.stdout);
      const steps: [string, string[], NodeJS.ProcessEnv?][] = [
        ['tests/test_stress', ['2', '2', '20000'], { QUILL_FRONT_RING_ENABLED: '1', QUILL_REMOTE_DRAIN_TARGET: '2', QUILL_TCACHE_MAX: '8' }],
        ['tests/test_env', ['ring=0', 'tcache=64']],
        ['tests/test_env', ['ring=0', 'tcache=100'], { QUILL_TCACHE_MAX: '100' }],
        ['tests/test_env', ['ring=0', 'tcache=16'], { QUILL_MODE: 'minimal' }],
        ['tests/test_env', ['ring=0', 'tcache=128'], { QUILL_PROFILE: 'bench_random_mixed', QUILL_MODE: 'fast' }],
        ['bench_random_mixed_quill', ['200000', '256', '1']],
      ];
      for (const [bin, args, env] of steps) {
        const r = run(path.join(out, bin), args, { env: { ...process.env, ...env } });
        assert.equal(r.status, 0, `${bin} ${args.join(' ')} failed (flags at ${value}):\n${r.stdout}${r.stderr}`);
      }
      const bench = run(path.join(out, 'bench_random_mixed_quill'), ['200000', '256', '1']);
      assert.equal((bench.stdout.match(/^Throughput = \d+ ops\/s$/gm) ?? []).length, 1, bench.stdout);

      // run_tests.sh's ring-on case: test_env checks that the front ring ran by the blocks it
      // holds (ring state), and only prints the ring counters, so it passes with them compiled
      // out; at 0 it prints 0 calls. A print is no check, so the plan has no test-read note for
      // the family, only the Phase 29 one: the ring is off by default.
      const ring = run(path.join(out, 'tests/test_env'), ['ring=1'], { env: { ...process.env, QUILL_FRONT_RING_ENABLED: '1' } });
      assert.equal(ring.status, 0, `test_env ring=1 failed (flags at ${value}):\n${ring.stdout}${ring.stderr}`);
      assert.match(ring.stdout, value === '0' ? /ring_enabled=1 ring_held=[1-9]\d* ring_alloc_calls=0 / : /ring_enabled=1 ring_held=[1-9]\d* ring_alloc_calls=[1-9]/, ring.stdout);
      assert.ok(!ringNotes.some((n) => /test or benchmark code reads/.test(n)), ringNotes.join('\n'));
      assert.ok(ringNotes.some((n) => /QUILL_FRONT_RING_ENABLED is on \(off by default\).*Phase 29/.test(n)), ringNotes.join('\n'));
    });
  }

  it('measures callgrind instructions: the default build against every family compiled out (printed, not asserted)', function () {
    if (run('valgrind', ['--version']).error) {
      console.log('      valgrind is not installed (apt-get install -y valgrind): no instruction count');
      return;
    }
    const orig = path.join(dir, 'out-orig');
    const built = run('make', ['-C', path.join(ROOT, 'allocator'), '-j2', `OUT=${orig}`, `${orig}/bench_random_mixed_quill`]);
    assert.equal(built.status, 0, built.stderr);
    const bin0 = path.join(dir, 'out-0', 'bench_random_mixed_quill');
    assert.ok(existsSync(bin0), 'the flag-0 build must run first');
    const args = ['200000', '256', '42'];
    const a = callgrindIr(path.join(orig, 'bench_random_mixed_quill'), args);
    const b = callgrindIr(bin0, args);
    assert.ok(a && b, 'callgrind ran');
    console.log(`      callgrind Ir, bench_random_mixed_quill ${args.join(' ')}: default build ${a.toLocaleString('en-US')}, every telemetry family compiled out ${b.toLocaleString('en-US')} (${(((b - a) / a) * 100).toFixed(2)}%)`);
  });

  it('the caret fixture, compiled out, compiles warning-free at 0 and at 1', () => {
    const fx = path.join(dir, 'fixture');
    cpSync(path.join(FIXTURES, 'compileout'), fx, { recursive: true });
    const folder = new Folder(fx);
    const added: string[] = [];
    for (const family of ['g_xa_stats', 'g_xa_tab_hits', 'g_xa_mystery']) {
      const plan = folder.plan(parser, family);
      assert.equal(plan.error, null, `${family}: ${plan.error}`);
      folder.apply(plan);
      added.push(plan.flag);
    }
    for (const value of ['0', '1']) {
      for (const file of ['src/xa_pool.c', 'src/xa_dump.c', 'src/sub/xa_other.c']) {
        const r = run('cc', ['-std=gnu11', '-fsyntax-only', ...STRICT, '-Isrc', ...added.map((f) => `-D${f}=${value}`), file], { cwd: fx });
        assert.equal(r.status, 0, `${file} with flags at ${value}:\n${r.stderr}`);
      }
    }
  });
});
