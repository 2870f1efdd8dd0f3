// A worker thread of the SAE kernel pool (parallel.ts): runs its range of a task on shared memory, then
// flags completion (1 done, 2 failed) and wakes the caller blocked in Atomics.wait.
import { parentPort } from 'node:worker_threads';
import { runKernel, type KernelTask } from './parallel-tasks.js';

parentPort!.on('message', (msg: { task: KernelTask; start: number; end: number; flags: Int32Array; slot: number }) => {
  let status = 1;
  try {
    runKernel(msg.task, msg.start, msg.end);
  } catch (err) {
    status = 2;
    process.stderr.write(`loupe SAE kernel worker: ${(err as Error).stack ?? err}\n`);
  }
  Atomics.store(msg.flags, msg.slot, status);
  Atomics.notify(msg.flags, msg.slot);
});
