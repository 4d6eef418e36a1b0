// Index workers: threads that parse files (the wasm half of the work) while this thread reads the
// next ones and extracts facts from the trees they send back as flat copies (flatTree.ts; the
// buffer is transferred, not copied). Facts are built here, so they come out exactly as a
// single-threaded run builds them, and nothing object-shaped crosses threads. The pool only
// schedules; the threads come from the host (core/host/indexWorkers.ts for Node), so core stays
// free of worker_threads and tests can hand in fake ones.
//
// Jobs wait in a queue; each worker gets at most `depth` at a time, so the caller can take queued
// jobs back (`steal`) and run them itself when the workers are busy: with two cores, this thread
// parses too instead of waiting.
import type { FileFacts } from '../analysis/facts';
import type { FlatArrays } from '../parsing/flatTree';

export interface FactsJob {
  id: number;
  text: string;
}

/** The job's tree as a flat copy, or null when the worker could not parse it. */
export type FactsReply = { id: number; flat: FlatArrays | null };

/** One worker thread, as the host starts it. */
export interface FactsWorkerPort {
  send(job: FactsJob): void;
  /** Replies, in any order. */
  onReply(listener: (reply: FactsReply) => void): void;
  /** The thread died (failed to start, crashed); it gets no more jobs. */
  onExit(listener: (error: Error) => void): void;
  terminate(): Promise<void>;
}

export class FactsPoolClosedError extends Error {
  constructor() {
    super('the index workers were stopped');
  }
}

interface Pending {
  job: FactsJob;
  resolve(facts: FileFacts): void;
  reject(err: Error): void;
}

interface Slot {
  port: FactsWorkerPort;
  alive: boolean;
  inFlight: Map<number, Pending>;
  /** When it last replied or got work (Date.now()): a worker silent for `stallMs` is given up. */
  active: number;
}

export class FactsPool {
  private readonly slots: Slot[];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private unsettled = 0;
  private closed = false;
  private wake: (() => void) | null = null;

  /** `finish` turns a worker's reply into the job's facts (on this thread); it must not throw. */
  constructor(
    ports: FactsWorkerPort[],
    private readonly finish: (text: string, reply: FactsReply) => FileFacts,
    private readonly depth = 4,
    private readonly stallMs = 60_000,
  ) {
    this.slots = ports.map((port) => ({ port, alive: true, inFlight: new Map(), active: Date.now() }));
    for (const slot of this.slots) {
      slot.port.onReply((reply) => this.settle(slot, reply));
      slot.port.onExit(() => this.lost(slot));
    }
  }

  get workers(): number {
    return this.slots.filter((s) => s.alive).length;
  }

  /** Jobs not yet handed to a worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** Jobs whose facts have not arrived yet (queued or in a worker). */
  get pending(): number {
    return this.unsettled;
  }

  /** The facts of `text`, parsed by a worker, or by whoever steals the job. */
  extract(text: string): Promise<FileFacts> {
    if (this.closed) return Promise.reject(new FactsPoolClosedError());
    return new Promise<FileFacts>((resolve, reject) => {
      this.unsettled++;
      this.queue.push({ job: { id: this.nextId++, text }, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Takes back the most recently queued job: the caller extracts it itself and hands the facts to
   * `complete`. Undefined when every job is in a worker already.
   */
  steal(): { text: string; complete(facts: FileFacts): void } | undefined {
    const p = this.queue.pop();
    if (!p) return undefined;
    return {
      text: p.job.text,
      complete: (facts) => {
        this.unsettled--;
        p.resolve(facts);
        this.poke();
      },
    };
  }

  /**
   * Resolves at the next reply or lost worker (or at once when nothing is pending). A worker that
   * has said nothing for `stallMs` with jobs in hand (hung) is stopped and its jobs queued again.
   */
  progress(): Promise<void> {
    if (!this.unsettled || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const now = Date.now();
        for (const slot of this.slots) {
          if (!slot.alive || !slot.inFlight.size || now - slot.active < this.stallMs) continue;
          this.lost(slot);
          void slot.port.terminate().catch(() => undefined);
        }
        this.poke();
      }, this.stallMs);
      const previous = this.wake;
      this.wake = () => {
        clearTimeout(timer);
        previous?.();
        resolve();
      };
    });
  }

  /** Stops every worker; jobs not done yet are rejected with FactsPoolClosedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const left = [...this.queue.splice(0), ...this.slots.flatMap((s) => [...s.inFlight.values()])];
    for (const s of this.slots) s.inFlight.clear();
    this.unsettled = 0;
    for (const p of left) p.reject(new FactsPoolClosedError());
    this.poke();
    await Promise.all(this.slots.map((s) => s.port.terminate().catch(() => undefined)));
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      while (slot.alive && slot.inFlight.size < this.depth && this.queue.length) {
        const p = this.queue.shift()!;
        if (!slot.inFlight.size) slot.active = Date.now();
        slot.inFlight.set(p.job.id, p);
        try {
          slot.port.send(p.job);
        } catch {
          this.lost(slot);
        }
      }
    }
  }

  private settle(slot: Slot, reply: FactsReply): void {
    const p = slot.inFlight.get(reply.id);
    if (!p) return;
    slot.inFlight.delete(reply.id);
    slot.active = Date.now();
    this.unsettled--;
    p.resolve(this.finish(p.job.text, reply));
    this.dispatch();
    this.poke();
  }

  /** A dead worker's jobs go back to the front of the queue, for the others or the caller. */
  private lost(slot: Slot): void {
    if (!slot.alive) return;
    slot.alive = false;
    this.queue.unshift(...slot.inFlight.values());
    slot.inFlight.clear();
    this.dispatch();
    this.poke();
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
