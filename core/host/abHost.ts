// The real ExperimentDeps for the CLI and the extension host: child processes spawned from argv
// arrays (never a shell), each in its own process group, so a timeout or a cancel kills the
// whole group (make and its compilers, valgrind and its tool) and leaves no orphans.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { collectMachineInfo } from '../ab/machine';
import type { AbFileSystem, Clock, ExperimentDeps, ProcessHost, RunOutcome, RunRequest } from '../ab/types';

const STDERR_TAIL = 4096;
const STDOUT_MAX = 8 << 20;

/** Process groups still alive, killed if this process exits first. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number, sig: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of liveGroups) killGroup(pid);
  });
}

export const nodeProcessHost: ProcessHost = {
  run(req: RunRequest): Promise<RunOutcome> {
    installExitHook();
    const started = performance.now();
    return new Promise((resolve) => {
      if (req.signal?.aborted) {
        resolve({ exitCode: null, signal: null, stdout: '', stderrTail: '', durationMs: 0, timedOut: false, cancelled: true });
        return;
      }
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      let cancelled = false;
      let settled = false;
      const child = spawn(req.argv[0], req.argv.slice(1), {
        cwd: req.cwd,
        env: req.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        shell: false,
      });
      const pid = child.pid;
      if (pid !== undefined) liveGroups.add(pid);
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        if (stdout.length < STDOUT_MAX) stdout += d;
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr = (stderr + d).slice(-STDERR_TAIL * 2);
      });
      const timer = setTimeout(() => {
        timedOut = true;
        if (pid !== undefined) killGroup(pid);
      }, req.timeoutMs);
      const onAbort = () => {
        cancelled = true;
        if (pid !== undefined) killGroup(pid);
      };
      req.signal?.addEventListener('abort', onAbort, { once: true });
      const done = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        if (pid !== undefined) {
          // grandchildren that outlived the leader (a backgrounded helper) go with it
          killGroup(pid);
          liveGroups.delete(pid);
        }
        const tail = stderr.length > STDERR_TAIL ? stderr.slice(-STDERR_TAIL) : stderr;
        resolve({
          exitCode,
          signal,
          stdout,
          stderrTail: tail,
          durationMs: performance.now() - started,
          timedOut,
          cancelled,
          ...(spawnError ? { spawnError } : {}),
        });
      };
      child.on('error', (err) => done(null, null, `${req.argv[0]}: ${err.message}`));
      child.on('close', (code, sig) => done(code, sig));
    });
  },
};

export const nodeAbFileSystem: AbFileSystem = {
  readFile: (p) => fs.readFile(p),
  writeFile: (p, data) => fs.writeFile(p, data, 'utf8'),
  rename: (a, b) => fs.rename(a, b),
  mkdir: async (p) => {
    await fs.mkdir(p, { recursive: true });
  },
  rm: (p) => fs.rm(p, { recursive: true, force: true }),
  exists: (p) =>
    fs.access(p).then(
      () => true,
      () => false,
    ),
  mkdtemp: (prefix) => fs.mkdtemp(path.join(os.tmpdir(), prefix)),
  isSpecial: (p) =>
    fs.stat(p).then(
      (st) => !st.isFile() && !st.isDirectory(),
      () => false,
    ),
};

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

export function nodeExperimentDeps(env: Record<string, string | undefined> = process.env): ExperimentDeps {
  return {
    host: nodeProcessHost,
    fs: nodeAbFileSystem,
    clock: systemClock,
    env,
    machine: () =>
      collectMachineInfo({
        readText: (p) => fs.readFile(p, 'utf8').catch(() => null),
        cpus: () => os.cpus(),
        release: () => os.release(),
        loadavg: () => os.loadavg(),
        hostname: () => os.hostname(),
      }),
  };
}
