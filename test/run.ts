// `npm test`: builds what the tiers need, runs every tier, and fails if any of them fails.
//   node --import tsx test/run.ts [static|unit|cli|server|webview|e2e|allocator ...]
// A pending (skipped) test counts as a failure: nothing is skipped silently. The last line
// is `tests: N passed, M failed`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

const ROOT = path.resolve(__dirname, '..');

interface TierResult {
  tier: string;
  passed: number;
  failed: number;
  notes: string[];
}

type Tier = { name: string; needs: Prereq[]; run(): Promise<TierResult> };
type Prereq = 'build' | 'package';

function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): { ok: boolean; output: string } {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error) return { ok: false, output: `${cmd}: ${r.error.message}` };
  return { ok: r.status === 0, output };
}

function step(name: string, cmd: string, args: string[]): TierResult {
  process.stdout.write(`\n── ${name}: ${cmd} ${args.join(' ')}\n`);
  const { ok, output } = sh(cmd, args);
  if (!ok || process.env.ALLOC_LENS_VERBOSE) process.stdout.write(output);
  process.stdout.write(ok ? `  ✔ ${name}\n` : `  ✘ ${name} failed\n`);
  return { tier: name, passed: ok ? 1 : 0, failed: ok ? 0 : 1, notes: [] };
}

function mochaTier(name: string, dir: string, timeout: number): Tier['run'] {
  return async () => {
    const files = readdirSync(path.join(ROOT, dir))
      .filter((f) => f.endsWith('.test.ts'))
      .sort()
      .map((f) => path.join(ROOT, dir, f));
    process.stdout.write(`\n── ${name} tier (${dir}, ${files.length} files)\n`);
    if (files.length === 0) return { tier: name, passed: 0, failed: 1, notes: [`no test files in ${dir}`] };
    const mocha = new Mocha({ timeout, reporter: 'spec', color: process.stdout.isTTY });
    for (const f of files) mocha.addFile(f);
    await mocha.loadFilesAsync();
    return new Promise((resolve) => {
      const runner = mocha.run(() => {
        const s = runner.stats!;
        const notes = s.pending ? [`${s.pending} pending test(s) in ${name}: pending counts as failed`] : [];
        resolve({ tier: name, passed: s.passes, failed: s.failures + s.pending, notes });
      });
    });
  };
}

async function allocatorTier(): Promise<TierResult> {
  process.stdout.write('\n── allocator tier: make -C allocator test\n');
  const r = spawnSync('make', ['-C', 'allocator', 'test'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 256 << 20 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  process.stdout.write(output.split('\n').slice(-40).join('\n'));
  if (r.error) return { tier: 'allocator', passed: 0, failed: 1, notes: [`make: ${r.error.message} (apt-get install make gcc)`] };
  const m = /^allocator: (\d+) passed, (\d+) failed/m.exec(output);
  if (!m) return { tier: 'allocator', passed: 0, failed: 1, notes: ['make -C allocator test printed no summary line'] };
  const failed = Number(m[2]) + (r.status === 0 ? 0 : Number(m[2]) === 0 ? 1 : 0);
  return { tier: 'allocator', passed: Number(m[1]), failed, notes: r.status === 0 ? [] : [`make exited with ${r.status}`] };
}

const TIERS: Tier[] = [
  {
    name: 'static',
    needs: [],
    run: async () => {
      const results = [step('typecheck', 'npx', ['tsc', '-b']), step('lint', 'npx', ['eslint', '.'])];
      return { tier: 'static', passed: results.reduce((a, r) => a + r.passed, 0), failed: results.reduce((a, r) => a + r.failed, 0), notes: [] };
    },
  },
  { name: 'unit', needs: [], run: mochaTier('unit', 'test/unit', 20_000) },
  { name: 'cli', needs: ['build'], run: mochaTier('cli', 'test/cli', 30_000) },
  { name: 'server', needs: ['build'], run: mochaTier('server', 'test/server', 30_000) },
  { name: 'webview', needs: ['build'], run: mochaTier('webview', 'test/webview', 30_000) },
  { name: 'e2e', needs: ['package'], run: mochaTier('e2e', 'test/e2e', 240_000) },
  { name: 'allocator', needs: [], run: allocatorTier },
];

async function main(): Promise<number> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !TIERS.some((t) => t.name === w));
  if (unknown.length) {
    process.stderr.write(`unknown tier(s): ${unknown.join(', ')}; tiers are ${TIERS.map((t) => t.name).join(', ')}\n`);
    return 2;
  }
  const tiers = wanted.length ? TIERS.filter((t) => wanted.includes(t.name)) : TIERS;
  const needs = new Set(tiers.flatMap((t) => t.needs));
  const results: TierResult[] = [];
  // `package` is a production build plus the VSIX; every tier can use its dist/.
  if (needs.has('package')) results.push(step('package', 'npm', ['run', '--silent', 'package']));
  else if (needs.has('build')) results.push(step('build', 'node', ['esbuild.mjs']));
  const prereqFailed = results.some((r) => r.failed);
  for (const tier of tiers) {
    if (prereqFailed && tier.needs.length) {
      results.push({ tier: tier.name, passed: 0, failed: 1, notes: ['not run: the build it needs failed'] });
      continue;
    }
    try {
      results.push(await tier.run());
    } catch (err) {
      results.push({ tier: tier.name, passed: 0, failed: 1, notes: [`tier crashed: ${err instanceof Error ? err.stack : String(err)}`] });
    }
  }
  process.stdout.write('\n── summary\n');
  for (const r of results) {
    process.stdout.write(`  ${r.failed ? '✘' : '✔'} ${r.tier.padEnd(10)} ${r.passed} passed, ${r.failed} failed\n`);
    for (const n of r.notes) process.stdout.write(`      ${n}\n`);
  }
  const passed = results.reduce((a, r) => a + r.passed, 0);
  const failed = results.reduce((a, r) => a + r.failed, 0);
  process.stdout.write(`tests: ${passed} passed, ${failed} failed\n`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`test runner crashed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
