// `npm start`: installs, builds, and opens allocator/ in VS Code with the extension loaded.
// Desktop `code --extensionDevelopmentPath` when `code` is on PATH; otherwise code-server on
// 127.0.0.1 (installed by test/e2e/setup), whose URL is printed. Ctrl+C stops it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const folder = join(root, 'allocator');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`[alloc-lens] ${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.error?.message})`);
    process.exit(1);
  }
  return r;
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { encoding: 'utf8' }).status === 0;
}

function freePort(preferred) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(freePort(0)));
    srv.listen(preferred, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

run(process.execPath, [join(root, 'scripts', 'ensureInstalled.mjs')]);

if (onPath('code') && !process.env.ALLOC_LENS_CODE_SERVER) {
  run(process.execPath, [join(root, 'esbuild.mjs')]);
  console.log(`[alloc-lens] opening ${folder} in VS Code with the extension from ${root}`);
  run('code', ['--new-window', `--extensionDevelopmentPath=${root}`, folder]);
  process.exit(0);
}

const setup = spawnSync('bash', [join(root, 'test', 'e2e', 'setup')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (setup.status !== 0) {
  console.error('[alloc-lens] test/e2e/setup failed: it installs code-server (see the messages above)');
  process.exit(1);
}
const value = (key) => new RegExp(`^${key}=(.*)$`, 'm').exec(setup.stdout)?.[1];
const node24 = value('NODE24');
const entry = value('CODE_SERVER');
const cache = process.env.ALLOC_LENS_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'alloc-lens');
const userData = join(cache, 'start-profile', 'user-data');
const settingsFile = join(userData, 'User', 'settings.json');
if (!existsSync(settingsFile)) {
  mkdirSync(dirname(settingsFile), { recursive: true });
  writeFileSync(settingsFile, JSON.stringify({ 'workbench.startupEditor': 'none', 'telemetry.telemetryLevel': 'off', 'git.openRepositoryInParentFolders': 'never' }, null, 2));
}
// code-server has no --extensionDevelopmentPath: install the freshly packaged VSIX instead
// (rerun `npm start` after changing the extension).
run('npm', ['run', '--silent', 'package'], { stdio: ['ignore', 'ignore', 'inherit'] });
const extensionsDir = join(cache, 'start-profile', 'extensions');
run(node24, [entry, '--user-data-dir', userData, '--extensions-dir', extensionsDir, '--force', '--install-extension', join(root, 'out', 'alloc-lens.vsix')], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
const port = await freePort(Number(process.env.ALLOC_LENS_PORT ?? 8080));
const child = spawn(
  node24,
  [entry, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--user-data-dir', userData, '--extensions-dir', extensionsDir, folder],
  // Own process group: code-server forks its real server, and stopping must take both.
  { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
);
let announced = false;
const onOutput = (chunk) => {
  const text = String(chunk);
  if (process.env.ALLOC_LENS_VERBOSE) process.stderr.write(text);
  if (!announced && /HTTP server listening on/.test(text)) {
    announced = true;
    console.log(`\n[alloc-lens] VS Code (code-server) is serving allocator/ with the extension loaded:\n\n    http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}\n\nPress Ctrl+C to stop.`);
  }
};
child.stdout.on('data', onOutput);
child.stderr.on('data', onOutput);
child.on('exit', (code, signal) => {
  if (!announced) console.error(`[alloc-lens] code-server exited (${code ?? signal}) before it was ready; rerun with ALLOC_LENS_VERBOSE=1`);
  process.exit(code ?? 0);
});
const stop = () => {
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
};
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, stop);
process.on('exit', stop);
