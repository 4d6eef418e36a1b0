// Fakes for the A/B engine: a scripted process host over the in-memory file system.
import { memoryFs } from '../../core/ab/simulate';
import type { ExperimentDeps, RunOutcome, RunRequest } from '../../core/ab/types';

export type Script = (req: RunRequest, n: number) => Partial<RunOutcome> | Promise<Partial<RunOutcome>>;

export interface FakeDeps extends ExperimentDeps {
  calls: RunRequest[];
  files: Map<string, Buffer>;
}

/** Every call goes to `script`; `make`-like builds write `${out}/bench` with the argv as contents. */
export function fakeDeps(script: Script, env: Record<string, string> = {}): FakeDeps {
  const fs = memoryFs();
  const calls: RunRequest[] = [];
  let mono = 0;
  return {
    calls,
    files: fs.files,
    fs,
    env,
    clock: { now: () => 1_700_000_000_000 + mono, monotonic: () => mono },
    host: {
      run: async (req) => {
        calls.push(req);
        mono += 100;
        const o = await script(req, calls.length - 1);
        return { exitCode: 0, signal: null, stdout: '', stderrTail: '', durationMs: 100, timedOut: false, cancelled: false, ...o };
      },
    },
  };
}

/** Build steps for fakeDeps: `cc --version`, and `build <out> <cflags>` writes <out>/bench whose bytes are the cflags. */
export function fakeBuild(req: RunRequest, files: Map<string, Buffer>, binaryOf: (cflags: string) => string = (c) => c): Partial<RunOutcome> | null {
  if (req.argv[0] === 'cc') return { stdout: 'cc (Debian 12.2.0-14) 12.2.0\nCopyright\n' };
  if (req.argv[0] !== 'build') return null;
  files.set(`${req.argv[1]}/bench`, Buffer.from(binaryOf(req.argv[2] ?? '')));
  return { exitCode: 0 };
}
