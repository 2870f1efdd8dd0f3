// A worker thread of the SAE kernel pool (parallel.ts): claims parts of a task on shared memory until none
// are left, then flags completion (1 done, 2 failed) and wakes the caller blocked in Atomics.wait.
import { parentPort } from 'node:worker_threads';
import { runParts, type KernelTask } from './parallel-tasks.js';

parentPort!.on('message', (msg: { task: KernelTask; bounds: Int32Array; next: Int32Array; flags: Int32Array; slot: number }) => {
  let status = 1;
  try {
    runParts(msg.task, msg.bounds, msg.next);
  } catch (err) {
    status = 2;
    process.stderr.write(`loupe SAE kernel worker: ${(err as Error).stack ?? err}\n`);
  }
  Atomics.store(msg.flags, msg.slot, status);
  Atomics.notify(msg.flags, msg.slot);
});
