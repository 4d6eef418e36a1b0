import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DIST, FIXTURES, ROOT } from '../support/paths';
import { waitFor } from '../support/wait';

const CLI = path.join(DIST, 'cli.js');
const FAKE = ['--build', '["sh","${folder}/build.sh","${out}","${cflags}"]', '--run', '["sh","${out}/bench"]', '--binary', '${out}/bench'];

function workspace(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alloc-lens-ab-'));
  cpSync(path.join(FIXTURES, 'ab'), dir, { recursive: true });
  return dir;
}

function ab(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, 'ab', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Processes whose command line holds `marker` (the fake benchmark's unique sleep). */
function processesWith(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(marker)) found.push(`${pid}: ${cmd}`);
    } catch {
      // gone
    }
  }
  return found;
}

function resultJson(dir: string): Record<string, unknown> & { runs: { value: number | null }[] } {
  const results = path.join(dir, '.alloc-lens', 'results');
  const file = readdirSync(results).find((f) => f.endsWith('.json') && f !== 'history.json');
  assert.ok(file, `no result in ${results}`);
  return JSON.parse(readFileSync(path.join(results, file), 'utf8'));
}

const uniqueSeconds = () => `${900 + Math.floor(Math.random() * 90)}.${process.pid}${Date.now() % 100000}`;

describe('alloc-lens ab: faults (fake benchmarks in test/fixtures/ab)', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  const ws = () => {
    const d = workspace();
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('a completed experiment: the verdict table, the JSON shape of issue #6, exit 0; --fail-on nogo exits 3 on NO-GO', () => {
    const dir = ws();
    const out = path.join(dir, 'out.json');
    const r = ab([dir, ...FAKE, '--define-b', 'SLOWER=1', '--min-pairs', '5', '--json', out, '--markdown', path.join(dir, 'out.md'), '--csv', path.join(dir, 'out.csv')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\| B vs A · default \| 58\.\d\d M ops\/s \| 56\.\d\d M ops\/s \| -3\.4\d% \|/);
    assert.match(r.stdout, /NO-GO: B is worse/);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(j.verdict, 'NO-GO');
    assert.ok(j.deltaPct < -3 && j.deltaPct > -4);
    assert.equal(j.ci.length, 2);
    assert.ok(typeof j.pValue === 'number');
    assert.equal(j.samples.a.length, j.pairs);
    assert.equal(j.identicalBinaries, false);
    assert.ok(Array.isArray(j.warnings));
    assert.match(readFileSync(path.join(dir, 'out.md'), 'utf8'), /## A\/B test results/);
    assert.equal(readFileSync(path.join(dir, 'out.csv'), 'utf8').trim().split('\n').length, j.runs.length + 1);
    assert.ok(existsSync(path.join(dir, '.alloc-lens', 'results', 'history.json')));
    const nogo = ab([dir, ...FAKE, '--define-b', 'SLOWER=1', '--min-pairs', '5', '--fail-on', 'nogo', '--no-save']);
    assert.equal(nogo.code, 3, nogo.stderr);
  });

  it('identical binaries: says so, runs nothing; --aa runs them anyway', () => {
    const dir = ws();
    const r = ab([dir, ...FAKE, '--define-a', 'X=1', '--define-b', 'X=1', '--no-save', '--json', '-']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.identicalBinaries, true);
    assert.equal(j.runs.length, 0);
    assert.match(r.stderr, /identical binaries/);
    const aa = ab([dir, ...FAKE, '--aa', '--min-pairs', '5', '--no-save', '--json', '-']);
    assert.equal(aa.code, 0, aa.stderr);
    const ja = JSON.parse(aa.stdout);
    assert.ok(ja.runs.length >= 10);
    assert.ok(!['GO', 'NO-GO'].includes(ja.verdict), ja.verdict);
  });

  it('a failing build: exit 2, the failing command and its stderr tail', () => {
    const dir = ws();
    const r = ab([dir, ...FAKE, '--define-b', 'FAIL_BUILD=1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /the build of variant B exited with status 2/);
    assert.match(r.stderr, /command: sh .*build\.sh .*\/B -DFAIL_BUILD=1/);
    assert.match(r.stderr, /'quill_missing' undeclared/);
    assert.equal(resultJson(dir).status, 'failed');
  });

  it('a crashing benchmark: exit 1, the signal named, the run kept in the result', () => {
    const dir = ws();
    const r = ab([dir, ...FAKE, '--define-b', 'X=1', '--env', 'BENCH_MODE=crash']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /crashed with SIGSEGV/);
    assert.match(r.stderr, /about to crash/);
    const j = resultJson(dir);
    assert.equal(j.status, 'failed');
    assert.equal(j.runs.length, 1);
    assert.equal(j.runs[0].value, null);
  });

  it('a benchmark that hangs: killed with its whole process group at the timeout, no orphan left', () => {
    const dir = ws();
    const secs = uniqueSeconds();
    const r = ab([dir, ...FAKE, '--define-b', 'X=1', '--env', 'BENCH_MODE=hang', '--env', `HANG_SECONDS=${secs}`, '--run-timeout', '1']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /timed out after 1 s \(process group killed\)/);
    assert.deepEqual(processesWith(secs), []);
  });

  it('output without the metric, and a regex that matches twice: exit 1 with the reason', () => {
    const dir = ws();
    const none = ab([dir, ...FAKE, '--define-b', 'X=1', '--env', 'BENCH_MODE=nometric', '--no-save']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no line of the output matches the metric regex/);
    const twice = ab([dir, ...FAKE, '--define-b', 'X=1', '--env', 'BENCH_MODE=twice', '--no-save']);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /matches 2 times .* it must match exactly once/);
  });

  it('Ctrl-C mid-run: the process group is killed, the partial samples are written, marked cancelled', async () => {
    const dir = ws();
    const secs = `0.3${process.pid}`;
    const child = spawn(process.execPath, [CLI, 'ab', dir, ...FAKE, '--define-b', 'X=1', '--env', 'BENCH_MODE=slow', '--env', `HANG_SECONDS=${secs}`, '--json', path.join(dir, 'partial.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor(() => /^run 5 /m.test(stderr), 30_000);
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, stderr);
    const j = JSON.parse(readFileSync(path.join(dir, 'partial.json'), 'utf8'));
    assert.equal(j.status, 'cancelled');
    assert.ok(j.runs.length >= 6, `${j.runs.length} runs kept`);
    assert.ok(j.runs.every((s: { value: number | null }) => s.value !== null));
    assert.equal(resultJson(dir).status, 'cancelled');
    assert.deepEqual(processesWith(secs), []);
  });

  it('disk full when writing (/dev/full): a clear message, exit 1, the result still printed and saved', () => {
    const dir = ws();
    const r = ab([dir, ...FAKE, '--define-b', 'SLOWER=1', '--min-pairs', '5', '--json', '/dev/full']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /could not write \/dev\/full: no space left on device \(ENOSPC\); the result is kept in memory/);
    assert.match(r.stdout, /NO-GO/);
    assert.equal(resultJson(dir).verdict, 'NO-GO');
  });

  it('bad usage: a flag that is not a C identifier, a bad --run, odd numbers: exit 2', () => {
    const dir = ws();
    for (const flag of ['1BAD', 'QUILL-X', 'X;rm -rf /', '']) {
      const r = ab([dir, '--flag', flag]);
      assert.equal(r.code, 2, flag);
      assert.match(r.stderr, /is not a C identifier/, flag);
    }
    assert.match(ab([dir, '--flag', 'X', '--run', 'make bench']).stderr, /JSON array/);
    assert.equal(ab([dir, '--flag', 'X', '--min-pairs', 'zero']).code, 2);
    assert.equal(ab([dir, '--flag', 'X', '--metric', 'vibes']).code, 2);
    assert.equal(ab([path.join(dir, 'nope'), '--flag', 'X']).code, 2);
    assert.equal(existsSync(path.join(dir, '.alloc-lens')), false, 'nothing ran');
  });
});

describe('alloc-lens ab on allocator/ (real builds)', function () {
  this.timeout(180_000);
  let dir = '';
  before(() => {
    for (const tool of ['make', 'cc']) if (spawnSync(tool, ['--version']).error) assert.fail(`${tool} is missing: apt-get install -y make gcc`);
    dir = mkdtempSync(path.join(os.tmpdir(), 'alloc-lens-ab-quill-'));
    cpSync(path.join(ROOT, 'allocator'), dir, { recursive: true, filter: (src) => !/\/(build|\.alloc-lens)(\/|$)/.test(path.relative(ROOT, src)) });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('instructions (callgrind) for QUILL_CLASS_STATS_COMPILED 0 vs 1: B runs more instructions, NO-GO', function () {
    if (spawnSync('valgrind', ['--version']).error) assert.fail('valgrind is missing: apt-get install -y valgrind');
    const r = ab([dir, '--flag', 'QUILL_CLASS_STATS_COMPILED', '--metric', 'instructions', '--json', '-']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.status, 'completed');
    assert.ok(j.cells[0].b.median > j.cells[0].a.median, `B ${j.cells[0].b.median} Ir vs A ${j.cells[0].a.median} Ir`);
    assert.ok(j.deltaPct > 0.5, `Δ ${j.deltaPct}%`);
    assert.equal(j.verdict, 'NO-GO');
    assert.ok(j.builds.every((b: { compiler: string; flags: string }) => /gcc|cc/.test(b.compiler) && /QUILL_CLASS_STATS_COMPILED/.test(b.flags)));
  });

  // A 95% CI says GO/NO-GO on a true A/A at most 5% of the time by construction; with a 1% margin
  // the simulation (core/ab/simulate, 8-16 pairs) puts it at 1% for σ = 1% and 5% for σ = 3%.
  it('A/A (QUILL_CLASS_STATS_COMPILED=0 on both sides, small budget): never GO or NO-GO', () => {
    const r = ab([dir, '--flag', 'QUILL_CLASS_STATS_COMPILED', '--aa', '--a', '0', '--margin', '1', '--min-pairs', '8', '--max-pairs', '16', '--budget', '20', '--run', '["${out}/bench_random_mixed_quill","2000000","256","42"]', '--binary', '${out}/bench_random_mixed_quill', '--json', '-']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.status, 'completed');
    assert.ok(j.pairs >= 1);
    assert.ok(!['GO', 'NO-GO'].includes(j.verdict), `A/A said ${j.verdict}: Δ ${j.deltaPct}% CI ${j.ci}`);
  });
});
