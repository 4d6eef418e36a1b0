import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { glob } from 'tinyglobby';
import type { FactsWorkerPort } from '../index/factsPool';
import type { IndexHost } from '../index/workspaceIndex';
import type { CParserOptions } from '../parsing/cParser';
import { indexWorkerCount, spawnIndexWorker } from './indexWorkers';

/** The IndexHost for the language server and the CLI: the real file system and clock. */
export const nodeIndexHost: IndexHost = {
  async listFiles(root, include, exclude) {
    const found = await glob([...include], {
      cwd: root,
      ignore: [...exclude],
      absolute: true,
      onlyFiles: true,
      followSymbolicLinks: false,
      dot: false,
    });
    return found.map((p) => path.normalize(p)).sort();
  },
  // Synchronous on purpose: source files are small (the index caps their size) and the index reads
  // them one after the other between time slices. A promise-based read is four thread-pool round
  // trips (open, stat, read, close), which made reading the files take as long as parsing them.
  async fileSize(p) {
    return statSync(p).size;
  },
  async readFile(p) {
    return readFileSync(p, 'utf8');
  },
  now: () => performance.now(),
  yieldToEventLoop: () => new Promise((resolve) => setImmediate(resolve)),
  startIndexWorkers(wasm) {
    const ports: FactsWorkerPort[] = [];
    for (let i = indexWorkerCount(); i > 0; i--) {
      const port = spawnIndexWorker(wasm);
      if (port) ports.push(port);
    }
    return ports;
  },
};

/** The bundles (dist/*.js) ship both wasm files next to themselves. */
export function bundledWasm(dir: string): CParserOptions {
  return {
    runtimeWasm: path.join(dir, 'tree-sitter.wasm'),
    languageWasm: path.join(dir, 'tree-sitter-c.wasm'),
  };
}
