// What the editor features share: a request handler that logs instead of failing the request,
// and the "after an index change, once" scheduling of pushes and refreshes.
import type { ServerContext } from '../context';

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/** Runs a request handler; a bug is logged and answered with `fallback`, never a failed request. */
export async function guarded<T>(ctx: ServerContext, what: string, fallback: T, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    ctx.connection.console.error(`${what}: ${describe(err)}`);
    return fallback;
  }
}

/**
 * Coalesces triggers into one run on the next turn of the event loop, and runs one at a time: a
 * trigger during a run makes one more run after it, so an older pass (older settings) never
 * finishes after a newer one and the last trigger is always followed by a run.
 */
export function serialized(ctx: ServerContext, what: string, run: () => Promise<void>): { trigger(): void; dispose(): void } {
  let queued = false;
  let running = false;
  let again = false;
  let disposed = false;
  const loop = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await run();
      } while (again && !disposed);
    } catch (err) {
      ctx.connection.console.error(`${what}: ${describe(err)}`);
    } finally {
      running = false;
    }
  };
  return {
    trigger() {
      if (queued || disposed) return;
      queued = true;
      setImmediate(() => {
        queued = false;
        if (!disposed) void loop();
      });
    },
    dispose() {
      disposed = true;
    },
  };
}

/** Asks the client to refresh (inlay hints, code lenses) once after index changes, when it can. */
export function refreshOnIndexChange(ctx: ServerContext, canRefresh: boolean, refresh: () => Promise<unknown>): { dispose(): void } {
  if (!canRefresh) return { dispose() {} };
  const pass = serialized(ctx, 'refresh', () => refresh().then(() => undefined, () => undefined));
  const changes = ctx.onIndexChanged(() => pass.trigger());
  return {
    dispose() {
      pass.dispose();
      changes.dispose();
    },
  };
}
