// The index worker thread (dist/indexWorker.js): parses the texts it is sent and replies with a
// flat copy of each tree, its buffer transferred. Started by indexWorkers.ts; the scheduling and
// the fact extraction are on the main thread (core/index/factsPool.ts).
import type { Tree } from 'web-tree-sitter';
import { parentPort, workerData } from 'node:worker_threads';
import type { FactsJob, FactsReply } from '../index/factsPool';
import { CParser, type CParserOptions } from '../parsing/cParser';

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('indexWorker.js runs as a worker thread');
  const parser = await CParser.create((workerData as { wasm: CParserOptions }).wasm);
  port.on('message', (job: FactsJob) => {
    let reply: FactsReply = { id: job.id, flat: null };
    let tree: Tree | undefined;
    try {
      tree = parser.parse(job.text);
      reply = { id: job.id, flat: parser.flatten(tree.rootNode, job.text).arrays() };
    } catch {
      // The main thread parses it again and gets the same failure (empty facts).
    } finally {
      tree?.delete();
    }
    port.postMessage(reply, reply.flat ? [reply.flat.buffer] : []);
  });
}

main().catch((err) => {
  // The pool sees the thread exit and gives its jobs to the others.
  throw err;
});
