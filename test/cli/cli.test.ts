import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DIST, FIXTURES, ROOT } from '../support/paths';

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [path.join(DIST, 'cli.js'), ...args], { encoding: 'utf8', cwd: FIXTURES });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('alloc-lens CLI (dist/cli.js)', () => {
  it('prints the package version', () => {
    const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
    assert.deepEqual(cli('--version'), { code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('lists its subcommands in --help', () => {
    const r = cli('--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: alloc-lens/);
    assert.match(r.stdout, /scan \[options\] \[dirs\.\.\.\]/);
  });

  it('scans a folder and prints the counts and the parse errors', () => {
    const r = cli('scan', 'workspace');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^3 C files, \d+ functions, 4 atomic operations, 2 getenv calls/);
    assert.match(r.stdout, /workspace\/src\/broken\.c: parse errors at line 4/);
  });

  it('prints the same summary as JSON with --json', () => {
    const r = cli('scan', '--json', 'workspace');
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.files, 3);
    assert.equal(s.perFile.length, 3);
  });

  it('exits 1 with a clear message for a folder that does not exist', () => {
    const r = cli('scan', 'no-such-dir');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'alloc-lens: no-such-dir: not a folder\n');
  });

  it('exits 2 on usage errors', () => {
    assert.equal(cli('scan', '--max-files', 'zero').code, 2);
    assert.equal(cli('frobnicate').code, 2);
  });
});
