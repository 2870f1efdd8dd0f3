// Settings an architecture would ignore are refused, naming the architectures that take them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../errors.js';
import { resolveTrainOptions, type TrainOptions } from './trainer-options.js';

const base = { latents: 64, tokens: 4096 };
const refused = (o: TrainOptions, pattern: RegExp): void =>
  assert.throws(() => resolveTrainOptions(o, 16), (err: unknown) => err instanceof InputError && pattern.test(err.message), JSON.stringify(o));

test('each sparsity setting is refused on the architectures that do not use it', () => {
  refused({ ...base, architecture: 'relu', k: 4 }, /^architecture "relu" takes no k \(.*--k is for topk, batchtopk, transcoder-topk\); drop --k$/);
  refused({ ...base, architecture: 'jumprelu', k: 4 }, /takes no k/);
  refused({ ...base, architecture: 'gated', k: 4 }, /^architecture "gated" takes no k \(its sparsity comes from an L1 penalty; --k is for topk, batchtopk, transcoder-topk\); drop --k$/);
  refused({ ...base, architecture: 'gated', l0Coefficient: 1 }, /"gated" takes no L0 coefficient/);
  for (const architecture of ['topk', 'batchtopk', 'transcoder-topk']) {
    const hooks = architecture.startsWith('transcoder') ? { hookNameOut: 'blocks.0.hook_mlp_out' } : {};
    refused({ ...base, ...hooks, architecture, k: 4, l1Coefficient: 1 }, /takes no L1 coefficient \(k fixes its L0; --l1 is for relu, gated, transcoder-relu\); drop --l1$/);
    refused({ ...base, ...hooks, architecture, k: 4, l0Coefficient: 1 }, /takes no L0 coefficient .*--l0 is for jumprelu\); drop --l0$/);
    refused({ ...base, ...hooks, architecture, k: 4, bandwidth: 0.1 }, /takes no straight-through bandwidth .*--bandwidth is for jumprelu\); drop --bandwidth$/);
  }
  refused({ ...base, architecture: 'jumprelu', l1Coefficient: 1 }, /"jumprelu" takes no L1 coefficient \(its sparsity comes from an L0 penalty; --l1 is for relu, gated, transcoder-relu\)/);
  refused({ ...base, architecture: 'relu', l0Coefficient: 1 }, /"relu" takes no L0 coefficient \(its sparsity comes from an L1 penalty; --l0 is for jumprelu\)/);
  refused({ ...base, architecture: 'transcoder-relu', hookNameOut: 'blocks.0.hook_mlp_out', bandwidth: 0.1 }, /takes no straight-through bandwidth/);
  refused({ ...base, architecture: 'topk', k: 65 }, /k \(65\) cannot exceed the dictionary size \(64 latents\)/);
});

test('each sparsity setting is taken, and recorded, where it applies', () => {
  assert.equal(resolveTrainOptions({ ...base, architecture: 'relu', l1Coefficient: 0.7 }, 16).l1Coefficient, 0.7);
  assert.equal(resolveTrainOptions({ ...base, architecture: 'gated', l1Coefficient: 0.7 }, 16).l1Coefficient, 0.7);
  assert.equal(resolveTrainOptions({ ...base, architecture: 'transcoder-relu', hookNameOut: 'blocks.0.hook_mlp_out', l1Coefficient: 0.7 }, 16).l1Coefficient, 0.7);
  const j = resolveTrainOptions({ ...base, architecture: 'jumprelu', l0Coefficient: 0.3, bandwidth: 0.2 }, 16);
  assert.deepEqual([j.l0Coefficient, j.bandwidth], [0.3, 0.2]);
  assert.equal(resolveTrainOptions({ ...base, architecture: 'batchtopk', k: 64 }, 16).k, 64);
});
