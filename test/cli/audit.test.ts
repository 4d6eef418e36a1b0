import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DIST, FIXTURES, ROOT } from '../support/paths';

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [path.join(DIST, 'cli.js'), ...args], { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const SARIF_TOOL = path.join(ROOT, 'node_modules', '@microsoft', 'sarif-multitool-linux', 'Sarif.Multitool');

describe('alloc-lens audit (dist/cli.js)', () => {
  let json: Record<string, unknown> & { atomics: Record<string, unknown>[]; envGates: Record<string, unknown>[]; flags: Record<string, unknown>[]; findings: Record<string, unknown>[] };
  before(() => {
    const r = cli('audit', 'allocator', '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    json = JSON.parse(r.stdout);
  });

  it('--format json follows the contract: relative paths, 1-based positions, the documented fields', () => {
    assert.equal(json.version, 1);
    assert.equal(json.root, path.join(ROOT, 'allocator'));
    assert.ok(typeof json.files === 'number' && json.files >= 20);
    const relative = (f: unknown) => typeof f === 'string' && !path.isAbsolute(f) && !f.includes('\\') && existsSync(path.join(ROOT, 'allocator', f));
    assert.ok(json.atomics.length >= 80);
    for (const a of json.atomics) {
      assert.ok(relative(a.file), String(a.file));
      assert.ok(Number(a.line) >= 1 && Number(a.column) >= 1);
      assert.ok(['rmw', 'load', 'store', 'exchange', 'cas'].includes(String(a.op)));
      assert.ok(['telemetry', 'correctness', 'unknown'].includes(String(a.classification)));
      assert.ok(['hot', 'warm', 'cold', 'unknown'].includes(String(a.temperature)));
      assert.equal(typeof a.target, 'string');
      assert.equal(typeof a.base, 'string');
      assert.ok(a.function === null || typeof a.function === 'string');
      assert.ok(a.guard === null || typeof a.guard === 'string');
      assert.ok(Array.isArray(a.gates) && Array.isArray(a.evidence));
      for (const e of a.evidence as Record<string, unknown>[]) {
        assert.ok(relative(e.file) && Number(e.line) >= 1 && typeof e.kind === 'string', JSON.stringify(e));
      }
    }
    const tcache = json.atomics.find((a) => a.base === 'g_quill_tcache_stats' && a.field === 'alloc_calls')!;
    assert.equal(tcache.target, 'g_quill_tcache_stats[cls].alloc_calls');
    assert.equal(tcache.classification, 'telemetry');
    for (const g of json.envGates) {
      assert.ok(relative(g.file) && Number(g.line) >= 1 && typeof g.name === 'string');
      assert.ok(['on', 'off', 'value', 'unknown'].includes(String(g.default)));
      assert.ok(g.defaultValue === null || typeof g.defaultValue === 'string');
      assert.equal(typeof g.cached, 'boolean');
      assert.equal(typeof g.profiles, 'object');
    }
    for (const f of json.flags) {
      assert.ok(relative(f.file) && typeof f.name === 'string' && Array.isArray(f.uses));
      for (const u of f.uses as Record<string, unknown>[]) assert.ok(relative(u.file) && Number(u.line) >= 1);
    }
    for (const f of json.findings) assert.ok(relative(f.file) && Number(f.line) >= 1 && typeof f.rule === 'string' && typeof f.message === 'string');
  });

  it('--define changes #if evaluation: the flag counts as compiled in and its sites stop being dimmed', () => {
    const r = cli('audit', 'allocator', '--format', 'json', '--define', 'QUILL_CLASS_STATS_COMPILED=1');
    assert.equal(r.code, 0, r.stderr);
    const on = JSON.parse(r.stdout);
    const flag = (j: typeof json) => j.flags.find((f) => f.name === 'QUILL_CLASS_STATS_COMPILED')!;
    assert.equal(flag(json).enabled, false);
    assert.equal(flag(on).enabled, true);
  });

  it('--entry replaces the entry points: with none reachable, temperatures become unknown', () => {
    const r = cli('audit', 'allocator', '--format', 'json', '--entry', 'no_such_function');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as typeof json;
    assert.ok(!j.atomics.some((a) => a.temperature === 'hot'));
  });

  it('--format text is a summary grouped by file', () => {
    const r = cli('audit', 'allocator');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^alloc-lens audit .*allocator: \d+ C files, \d+ atomic write sites/);
    assert.match(r.stdout, /\nsrc\/quill_malloc\.c\n(?: .*\n)*? +100 +rmw +g_quill_tcache_stats\[cls\]\.alloc_calls +TELEMETRY hot/);
    assert.match(r.stdout, /\nENV gates\n[\s\S]*QUILL_FRONT_RING_ENABLED +default OFF/);
    assert.match(r.stdout, /\nCompile flags\n[\s\S]*QUILL_CLASS_STATS_COMPILED +default 0 +compiled out/);
    assert.match(r.stdout, /\d+ atomics: \d+ telemetry \(\d+ not compiled out on hot\/warm paths\), \d+ correctness, \d+ unknown\n$/);
  });

  it('--format sarif is valid SARIF 2.1.0 (checked by Microsoft\'s SARIF multitool)', function () {
    this.timeout(120_000);
    assert.ok(existsSync(SARIF_TOOL), `the SARIF validator is missing (${SARIF_TOOL}); run npm ci (devDependency @microsoft/sarif-multitool)`);
    const r = cli('audit', 'allocator', '--format', 'sarif');
    assert.equal(r.code, 0, r.stderr);
    const sarif = JSON.parse(r.stdout);
    assert.equal(sarif.version, '2.1.0');
    assert.ok(sarif.runs[0].results.length > 0);
    assert.ok(sarif.runs[0].results.some((x: { ruleId: string }) => x.ruleId === 'release-hygiene'));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'alloc-lens-sarif-'));
    // The validator writes its findings as SARIF too; schema and rule errors have level "error".
    const validate = (name: string, content: string): string[] => {
      const file = path.join(dir, name);
      const out = path.join(dir, `${name}.validation`);
      writeFileSync(file, content);
      const v = spawnSync(SARIF_TOOL, ['validate', file, '--output', out, '--log', 'ForceOverwrite'], {
        encoding: 'utf8',
        env: { ...process.env, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT: '1' },
      });
      assert.equal(v.status, 0, `${v.stdout}${v.stderr}`);
      const results = JSON.parse(readFileSync(out, 'utf8')).runs[0].results as { level: string; ruleId: string; message: { arguments?: string[] } }[];
      return results.filter((x) => x.level === 'error').map((x) => `${x.ruleId} ${JSON.stringify(x.message.arguments ?? [])}`);
    };
    try {
      assert.deepEqual(validate('audit.sarif', r.stdout), []);
      // Control: the validator does catch a broken log here (so an empty list above means something).
      const broken = JSON.parse(r.stdout);
      delete broken.runs[0].tool.driver.name;
      broken.runs[0].results[0].level = 'bogus';
      assert.ok(validate('broken.sarif', JSON.stringify(broken)).length > 0, 'the validator reported nothing for a broken log');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 with a clear message for a missing folder, a file and a malformed define', () => {
    for (const args of [['audit', 'no/such/dir'], ['audit', 'package.json'], ['audit', 'allocator', '--define', '1BAD']]) {
      const r = cli(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /not a readable folder|expected NAME or NAME=VALUE/);
    }
  });

  it('audits broken C without failing and says which files were only partly analysed', () => {
    const r = cli('audit', path.join(FIXTURES, 'workspace'), '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.ok(j.skipped.some((s: { file: string; reason: string }) => s.file === 'src/broken.c' && /line 4/.test(s.reason)), JSON.stringify(j.skipped));
  });
});
