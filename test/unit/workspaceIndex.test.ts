import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { defaultSettings } from '../../core/config';
import { nodeIndexHost } from '../../core/host/nodeHost';
import { IndexCancelledError, WorkspaceIndex, type IndexHost, type IndexLimits } from '../../core/index/workspaceIndex';
import { CParser } from '../../core/parsing/cParser';
import { FIXTURES, nodeModulesWasm } from '../support/paths';

const limits = (over: Partial<IndexLimits> = {}): IndexLimits => ({ ...defaultSettings().index, ...over });

/** An in-memory host with a fake clock: each read advances time by `readMs`. */
function memoryHost(files: Record<string, string>, readMs = 0): IndexHost & { yields: number } {
  let clock = 0;
  const host = {
    yields: 0,
    listFiles: async (root: string) => Object.keys(files).filter((f) => f.startsWith(root)).sort(),
    fileSize: async (p: string) => {
      if (!(p in files)) throw new Error('ENOENT');
      return Buffer.byteLength(files[p]);
    },
    readFile: async (p: string) => {
      clock += readMs;
      if (files[p] === '<unreadable>') throw new Error('EACCES');
      return files[p];
    },
    now: () => clock,
    yieldToEventLoop: async () => {
      host.yields++;
    },
  };
  return host;
}

describe('workspace index (core/index)', () => {
  let parser: CParser;
  before(async () => {
    parser = await CParser.create(nodeModulesWasm());
  });
  after(() => parser.dispose());

  it('indexes the fixture workspace through the Node host and skips excluded build output', async () => {
    const index = new WorkspaceIndex({ parser, host: nodeIndexHost });
    const root = path.join(FIXTURES, 'workspace');
    const s = await index.indexAll([{ root, limits: limits() }]);
    assert.deepEqual(s.perFile.map((f) => path.relative(root, f.path)), ['src/broken.c', 'src/pool.c', 'src/pool.h']);
    assert.equal(s.atomicCalls, 4);
    assert.equal(s.getenvCalls, 2);
    assert.equal(s.filesWithErrors, 1);
    assert.equal(s.complete, true);
  });

  it('caps the file count and skips large and unreadable files, and says so', async () => {
    const files = { '/w/a.c': 'int a;', '/w/b.c': 'x'.repeat(3000), '/w/c.c': '<unreadable>', '/w/d.c': 'int d;' };
    const logs: string[] = [];
    const index = new WorkspaceIndex({ parser, host: memoryHost(files), log: (m) => logs.push(m) });
    const s = await index.indexAll([{ root: '/w', limits: limits({ maxFiles: 3, maxFileSizeKB: 1 }) }]);
    assert.equal(s.files, 1);
    assert.deepEqual(s.skipped, { overCap: 1, tooLarge: 1, unreadable: 1 });
    assert.match(logs.join('\n'), /4 files match; indexing the first 3/);
  });

  it('yields to the event loop between time slices', async () => {
    const files = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`/w/f${i}.c`, 'int x;']));
    const host = memoryHost(files, 10);
    await new WorkspaceIndex({ parser, host, sliceMs: 25 }).indexAll([{ root: '/w', limits: limits() }]);
    assert.ok(host.yields >= 3 && host.yields <= 4, `yields: ${host.yields}`);
  });

  it('stops when cancelled and keeps the previous complete result', async () => {
    const files = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`/w/f${i}.c`, 'int x;']));
    const host = memoryHost(files, 10);
    const index = new WorkspaceIndex({ parser, host, sliceMs: 5 });
    await index.indexAll([{ root: '/w', limits: limits({ maxFiles: 2 }) }]);
    const controller = new AbortController();
    host.yieldToEventLoop = async () => controller.abort();
    await assert.rejects(index.indexAll([{ root: '/w', limits: limits() }], controller.signal), IndexCancelledError);
    assert.equal(index.summary().files, 2);
  });

  it('overlays edited documents and forgets removed ones', async () => {
    const index = new WorkspaceIndex({ parser, host: memoryHost({ '/w/a.c': 'int a;' }) });
    await index.indexAll([{ root: '/w', limits: limits() }]);
    index.updateFile('/w/a.c', 'void f(void){ atomic_store(&x, 1); }');
    assert.equal(index.summary().atomicCalls, 1);
    index.removeFile('/w/a.c');
    assert.equal(index.summary().files, 0);
  });
});
