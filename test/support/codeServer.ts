// Runs a real VS Code (code-server) for the e2e tier, installed by test/e2e/setup.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ROOT } from './paths';

export interface CodeServerInstall {
  node24: string;
  entry: string;
}

/** Runs the idempotent setup script and reads the paths it prints. */
export function ensureCodeServer(): CodeServerInstall {
  const r = spawnSync('bash', [path.join(ROOT, 'test', 'e2e', 'setup')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) {
    throw new Error(`test/e2e/setup failed (it installs chromium, Node 24 and code-server; run it by hand to see why):\n${r.stderr.split('\n').slice(-15).join('\n')}`);
  }
  const value = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(r.stdout)?.[1];
  const node24 = value('NODE24');
  const entry = value('CODE_SERVER');
  if (!node24 || !entry) throw new Error(`test/e2e/setup printed no NODE24/CODE_SERVER paths:\n${r.stdout}`);
  return { node24, entry };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningCodeServer {
  url: string;
  dataDir: string;
  output: () => string;
  stop(): Promise<void>;
}

const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.colorTheme': 'Default Dark Modern',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'chat.disableAIFeatures': true,
  'window.zoomLevel': 0,
  'git.openRepositoryInParentFolders': 'never',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

/** Installs `vsix` into a fresh profile and serves `folder` on a free loopback port; `settings` add to the user settings. */
export async function startCodeServer(install: CodeServerInstall, vsix: string, folder: string, settings: Record<string, unknown> = {}): Promise<RunningCodeServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'alloc-lens-e2e-'));
  const userData = path.join(dataDir, 'user-data');
  const extensions = path.join(dataDir, 'extensions');
  mkdirSync(path.join(userData, 'User'), { recursive: true });
  writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify({ ...USER_SETTINGS, ...settings }, null, 2));
  const common = ['--user-data-dir', userData, '--extensions-dir', extensions, '--disable-telemetry', '--disable-update-check'];

  const installed = spawnSync(install.node24, [install.entry, ...common, '--install-extension', vsix], { encoding: 'utf8' });
  const installOutput = `${installed.stdout}${installed.stderr}`;
  if (installed.status !== 0 || !/successfully installed/i.test(installOutput)) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`code-server --install-extension ${vsix} failed (exit ${installed.status}):\n${installOutput}`);
  }

  const port = await freePort();
  const child: ChildProcess = spawn(
    install.node24,
    [install.entry, ...common, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-workspace-trust', '--disable-getting-started-override', folder],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VSCODE_PROXY_URI: '' } },
  );
  let output = `install: ${installOutput}\n`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`code-server did not start listening in 60 s:\n${output}`)), 60_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      void stop().then(() => reject(err));
    };
    const onData = (d: Buffer) => {
      output += String(d);
      if (/HTTP server listening on/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => fail(new Error(`code-server exited with ${code} before listening:\n${output}`)));
  });
  return { url: `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`, dataDir, output: () => output, stop };
}
