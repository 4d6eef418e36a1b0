// The index worker thread (dist/indexWorker.js): parses the texts it is sent and replies with their
// facts. Started by indexWorkers.ts; the scheduling is core/index/factsPool.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { factsOfText } from '../analysis/workspaceAnalysis';
import type { FactsJob, FactsReply } from '../index/factsPool';
import { CParser, type CParserOptions } from '../parsing/cParser';

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('indexWorker.js runs as a worker thread');
  const parser = await CParser.create((workerData as { wasm: CParserOptions }).wasm);
  port.on('message', (job: FactsJob) => {
    const reply: FactsReply = { id: job.id, facts: factsOfText(parser, job.text) };
    port.postMessage(reply);
  });
}

main().catch((err) => {
  // The pool sees the thread exit and gives its jobs to the others.
  throw err;
});
