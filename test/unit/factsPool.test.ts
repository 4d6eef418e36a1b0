// Index workers (core/index/factsPool.ts, core/host/indexWorkers.ts): the same facts as this
// thread's, every thread stopped when the run ends or is cancelled, and a dead worker's files
// redone here.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { defaultSettings } from '../../core/config';
import { defaultAnalysisOptions } from '../../core/analysis/options';
import { emptyFileFacts, type FileFacts } from '../../core/analysis/facts';
import { nodeIndexHost } from '../../core/host/nodeHost';
import { spawnIndexWorker } from '../../core/host/indexWorkers';
import { FactsPool, FactsPoolClosedError, type FactsJob, type FactsReply, type FactsWorkerPort } from '../../core/index/factsPool';
import { IndexCancelledError, WorkspaceIndex, type IndexHost } from '../../core/index/workspaceIndex';
import { CParser } from '../../core/parsing/cParser';
import { FIXTURES, ROOT, nodeModulesWasm } from '../support/paths';

const limits = () => ({ ...defaultSettings().index, maxFiles: 10_000 });

/** What the fake workers' replies turn into: the job's text as an error line. */
const finish = (text: string): FileFacts => ({ ...emptyFileFacts(), errorLines: [Number(text)] });

/** A fake worker: replies when told to, or dies. */
function fakePort(): FactsWorkerPort & { jobs: FactsJob[]; reply(id: number): void; die(): void; terminated: boolean } {
  let onReply: (r: FactsReply) => void = () => undefined;
  let onExit: (e: Error) => void = () => undefined;
  const port = {
    jobs: [] as FactsJob[],
    terminated: false,
    send: (job: FactsJob) => void port.jobs.push(job),
    onReply: (l: (r: FactsReply) => void) => void (onReply = l),
    onExit: (l: (e: Error) => void) => void (onExit = l),
    terminate: async () => void (port.terminated = true),
    reply: (id: number) => onReply({ id, flat: null }),
    die: () => onExit(new Error('crashed')),
  };
  return port;
}

/** Node host with `count` real index workers, counting their replies and exits. */
function workerHost(count: number, exited: { n: number; replies?: number }, over: Partial<IndexHost> = {}): IndexHost {
  return {
    ...nodeIndexHost,
    startIndexWorkers: (wasm) =>
      Array.from({ length: count }, () => {
        const port = spawnIndexWorker(wasm);
        assert.ok(port, 'no index worker script');
        port.onExit(() => exited.n++);
        port.onReply(() => (exited.replies = (exited.replies ?? 0) + 1));
        return port;
      }),
    ...over,
  };
}

describe('index workers (core/index/factsPool)', () => {
  let parser: CParser;
  before(async () => {
    parser = await CParser.create(nodeModulesWasm());
  });
  after(() => parser.dispose());

  it('schedules at most `depth` jobs per worker; the rest can be taken back, newest first', async () => {
    const a = fakePort();
    const b = fakePort();
    const pool = new FactsPool([a, b], finish, 2);
    const results = ['1', '2', '3', '4', '5', '6'].map((t) => pool.extract(t));
    assert.deepEqual([a.jobs.map((j) => j.text), b.jobs.map((j) => j.text)], [['1', '2'], ['3', '4']]);
    assert.equal(pool.queued, 2);
    const stolen = pool.steal()!;
    assert.equal(stolen.text, '6');
    const mine = { ...emptyFileFacts(), errorLines: [6] };
    stolen.complete(mine);
    assert.equal(await results[5], mine);
    // A reply frees a slot: the queued job goes to that worker.
    a.reply(a.jobs[0].id);
    assert.deepEqual((await results[0]).errorLines, [1]);
    assert.deepEqual(a.jobs.map((j) => j.text), ['1', '2', '5']);
    assert.equal(pool.pending, 4);
    await pool.close();
    assert.ok(a.terminated && b.terminated);
    await assert.rejects(results[1], FactsPoolClosedError);
    await assert.rejects(pool.extract('7'), FactsPoolClosedError);
  });

  it('gives up on a worker that stays silent with jobs in hand', async () => {
    const hung = fakePort();
    const pool = new FactsPool([hung], finish, 2, 50);
    const result = pool.extract('1');
    await pool.progress();
    assert.equal(pool.workers, 0);
    assert.ok(hung.terminated);
    const job = pool.steal()!;
    job.complete(emptyFileFacts());
    assert.deepEqual(await result, emptyFileFacts());
    await pool.close();
  });

  it('gives a dead worker’s jobs to the others, or back to the caller', async () => {
    const a = fakePort();
    const pool = new FactsPool([a], finish, 2);
    const results = ['1', '2', '3'].map((t) => pool.extract(t));
    a.die();
    assert.equal(pool.workers, 0);
    assert.equal(pool.queued, 3);
    for (let job = pool.steal(); job; job = pool.steal()) job.complete({ ...emptyFileFacts(), errorLines: [Number(job.text)] });
    assert.deepEqual((await Promise.all(results)).map((f) => f.errorLines[0]), [1, 2, 3]);
    assert.equal(pool.pending, 0);
    await pool.close();
  });

  it('workers give the same index and report as this thread, on allocator/ and the fixtures', async function () {
    this.timeout(120_000);
    for (const root of [path.join(ROOT, 'allocator'), path.join(FIXTURES, 'seeds'), path.join(FIXTURES, 'workspace')]) {
      const alone = new WorkspaceIndex({ parser, host: { ...nodeIndexHost, startIndexWorkers: undefined } });
      const exited: { n: number; replies?: number } = { n: 0 };
      // Slow reads, so the workers (not this thread) extract most files.
      const slowRead = async (p: string) => {
        await new Promise((r) => setTimeout(r, 20));
        return nodeIndexHost.readFile(p);
      };
      const helped = new WorkspaceIndex({ parser, host: workerHost(2, exited, { readFile: slowRead }), minFilesForWorkers: 0 });
      const a = await alone.indexAll([{ root, limits: limits() }]);
      const b = await helped.indexAll([{ root, limits: limits() }]);
      assert.equal(exited.n, 2, 'the workers are stopped when the run ends');
      assert.ok((exited.replies ?? 0) >= a.parsedFiles / 2, `the workers extracted ${exited.replies} of ${a.parsedFiles} files`);
      assert.ok(a.parsedFiles > 0);
      assert.deepEqual({ ...b, durationMs: 0 }, { ...a, durationMs: 0 });
      assert.deepEqual(helped.report(defaultAnalysisOptions(), root), alone.report(defaultAnalysisOptions(), root));
      for (const f of a.perFile) assert.deepEqual(helped.facts(f.path), alone.facts(f.path), f.path);
    }
  });

  it('a worker that dies mid-run loses nothing: this thread parses its files', async function () {
    this.timeout(60_000);
    const root = path.join(ROOT, 'allocator');
    const alone = new WorkspaceIndex({ parser, host: { ...nodeIndexHost, startIndexWorkers: undefined } });
    const a = await alone.indexAll([{ root, limits: limits() }]);
    const dying = fakePort();
    let sent = 0;
    dying.send = () => {
      if (++sent === 2) setImmediate(() => dying.die());
    };
    const index = new WorkspaceIndex({ parser, host: { ...nodeIndexHost, startIndexWorkers: () => [dying] }, minFilesForWorkers: 0 });
    const b = await index.indexAll([{ root, limits: limits() }]);
    assert.ok(sent >= 2, `${sent} jobs sent before it died`);
    assert.deepEqual({ ...b, durationMs: 0 }, { ...a, durationMs: 0 });
    assert.deepEqual(index.report(defaultAnalysisOptions(), root), alone.report(defaultAnalysisOptions(), root));
  });

  it('small workspaces are indexed without starting workers', async () => {
    let started = 0;
    const host: IndexHost = { ...nodeIndexHost, startIndexWorkers: () => (started++, []) };
    await new WorkspaceIndex({ parser, host }).indexAll([{ root: path.join(ROOT, 'allocator'), limits: limits() }]);
    assert.equal(started, 0);
    await new WorkspaceIndex({ parser, host, minFilesForWorkers: 10 }).indexAll([{ root: path.join(ROOT, 'allocator'), limits: limits() }]);
    assert.equal(started, 1);
  });

  it('cancelling stops every worker thread before indexAll rejects', async function () {
    this.timeout(60_000);
    const controller = new AbortController();
    const exited = { n: 0 };
    let reads = 0;
    const host = workerHost(2, exited, {
      readFile: async (p) => {
        if (++reads === 10) controller.abort();
        return nodeIndexHost.readFile(p);
      },
    });
    const index = new WorkspaceIndex({ parser, host, minFilesForWorkers: 0 });
    await assert.rejects(index.indexAll([{ root: path.join(ROOT, 'allocator'), limits: limits() }], controller.signal), IndexCancelledError);
    assert.equal(exited.n, 2);
    assert.equal(index.summary().complete, false);
  });

  it('a process that indexes with workers (and one that cancels) exits by itself', function () {
    this.timeout(60_000);
    const script = `
      const { CParser } = require('./core/parsing/cParser');
      const { WorkspaceIndex } = require('./core/index/workspaceIndex');
      const { nodeIndexHost } = require('./core/host/nodeHost');
      const { nodeModulesWasm } = require('./test/support/paths');
      const { defaultSettings } = require('./core/config');
      (async () => {
        const parser = await CParser.create(nodeModulesWasm());
        const limits = { ...defaultSettings().index, maxFiles: 10000 };
        const done = await new WorkspaceIndex({ parser, host: nodeIndexHost, minFilesForWorkers: 0 }).indexAll([{ root: 'allocator', limits }]);
        const c = new AbortController();
        let n = 0;
        const host = { ...nodeIndexHost, readFile: (p) => { if (++n === 5) c.abort(); return nodeIndexHost.readFile(p); } };
        const cancelled = await new WorkspaceIndex({ parser, host, minFilesForWorkers: 0 }).indexAll([{ root: 'allocator', limits }], c.signal).then(() => 'finished', (e) => e.constructor.name);
        console.log(done.parsedFiles, cancelled);
      })();`;
    const started = Date.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, ALLOC_LENS_INDEX_WORKERS: '2' } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\d+ IndexCancelledError$/m);
    assert.ok(Date.now() - started < 30_000);
  });
});
