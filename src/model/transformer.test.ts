import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../errors.js';
import * as T from '../tensor/index.js';
import { randomIds } from './testing/fixtures.js';
import { smallModel } from './testing/models.js';

test('bad input: ids outside the vocabulary, sequences longer than the context, one-line errors', () => {
  const model = smallModel('llama-gqa');
  assert.throws(() => model.forward([1, 2, 41]), (e: unknown) => e instanceof InputError && /41 at position 2 is outside the vocabulary \[0, 41\)/.test(e.message));
  assert.throws(() => model.forward([-1]), InputError);
  assert.throws(() => model.forward(randomIds(25, 41, 1)), (e: unknown) => e instanceof InputError && /longer than the model's context of 24/.test(e.message));
  assert.throws(() => model.run([1], { stopAtLayer: 3 }), InputError);
});

test('lastLogitsOnly and stopAtLayer give the same numbers as the full run', () => {
  const model = smallModel('neox');
  const seqs = [randomIds(10, 41, 1), randomIds(6, 41, 2)];
  const full = model.run(seqs, { cache: ['blocks.0.hook_resid_post'] });
  const last = model.run(seqs, { lastLogitsOnly: true }).logits!;
  assert.deepEqual(last.shape, [2, 1, 41]);
  for (const [b, s] of seqs.entries()) {
    const row = full.logits!.data.subarray((b * 10 + s.length - 1) * 41, (b * 10 + s.length) * 41);
    // Same maths on fewer rows; native kernels may pick another blocking for them, so float32 rounding.
    const got = last.data.subarray(b * 41, (b + 1) * 41);
    for (let j = 0; j < 41; j++) assert.ok(Math.abs(got[j]! - row[j]!) <= 1e-5, `logit ${j} of sequence ${b}: ${got[j]} vs ${row[j]}`);
  }
  const stopped = model.run(seqs, { stopAtLayer: 1, cache: ['blocks.0.hook_resid_post'] });
  assert.equal(stopped.logits, null);
  assert.deepEqual(stopped.cache.get('blocks.0.hook_resid_post').data, full.cache.get('blocks.0.hook_resid_post').data);
});

test('training: parameters() take gradients through the whole model (checked against finite differences)', () => {
  const model = smallModel('llama-gqa');
  const params = model.parameters();
  assert.equal(new Set(params.map(([n]) => n)).size, params.length);
  for (const [, p] of params) p.requireGrad();
  const ids = randomIds(9, 41, 4);
  const loss = (): T.Tensor => T.crossEntropy(T.reshape(T.slice(model.forward(ids), 1, 0, 8), [8, 41]), ids.slice(1));
  const l = loss();
  T.backward(l);
  for (const [name, p] of params) {
    assert.ok(p.grad, `${name} got no gradient`);
    assert.ok(p.grad!.data.every(Number.isFinite), name);
  }
  const [, W] = params.find(([n]) => n === 'blocks.1.attn.W_K')!;
  const i = 17;
  const g = W.grad!.data[i]!;
  const at = (eps: number): number => {
    const old = W.data[i]!;
    W.data[i] = old + eps;
    const v = T.noGrad(() => loss().item());
    W.data[i] = old;
    return v;
  };
  const fd = (at(1e-2) - at(-1e-2)) / 2e-2;
  assert.ok(Math.abs(fd - g) < 1e-3 + 2e-2 * Math.abs(fd), `fd ${fd} vs ${g}`);
  for (const [, p] of params) p.requireGrad(false);
});

test('an attention-only model runs and its residual stream is embed + attention outputs', () => {
  const model = smallModel('attn-only');
  const ids = randomIds(8, 41, 3);
  const { cache } = model.run(ids, { cache: true });
  const sum = T.add(T.add(T.add(cache.get('hook_embed'), cache.get('hook_pos_embed')), cache.get('blocks.0.hook_attn_out')), cache.get('blocks.1.hook_attn_out'));
  const post = cache.get('blocks.1.hook_resid_post').data;
  for (let i = 0; i < post.length; i++) assert.ok(Math.abs(post[i]! - sum.data[i]!) < 1e-5);
});

test('positionOffset moves positions, not the causal mask: earlier logits ignore later tokens', () => {
  for (const name of ['gpt2', 'llama-gqa']) {
    const model = smallModel(name);
    const V = model.config.vocabSize;
    const a = model.run([[3, 7, 9]], { positionOffset: 2 }).logits!.data;
    const b = model.run([[3, 0, 0]], { positionOffset: 2 }).logits!.data;
    assert.deepEqual(a.subarray(0, V), b.subarray(0, V), `${name}: position 2's logits changed with the tokens after it`);
    // RoPE scores depend on relative positions only: the same tokens at offset 2 give offset 0's logits.
    if (name === 'llama-gqa') {
      const at0 = model.run([[3, 7, 9]]).logits!.data;
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - at0[i]!) < 1e-4, `${name} logit ${i}: ${a[i]} vs ${at0[i]}`);
    }
  }
});

test('inference fast path: fused linear layers (bias and GELU in the backend) give the composed ops\' logits', () => {
  const model = smallModel('gpt2');
  const seqs = [randomIds(12, 41, 3), randomIds(12, 41, 4)];
  const base = T.getBackend();
  if (!base.linear) return; // a backend without the fused kernel always composes
  let fused = 0;
  const counting: T.KernelBackend = {
    name: 'counting',
    matmul: (a, b, out, spec) => base.matmul(a, b, out, spec),
    linear: (a, w, bias, out, spec) => {
      const done = base.linear!(a, w, bias, out, { ...spec });
      if (done && spec.activation === 'gelu_tanh') fused++;
      return done;
    },
  };
  const fast = T.withBackend(counting, () => T.noGrad(() => model.forward(seqs)));
  assert.equal(fused, 2, 'both MLPs took the fused GELU path');
  // Watching hook_pre needs the pre-activation, so the composed path runs; the reference backend has no fused kernel.
  const watched = T.noGrad(() => model.run(seqs, { cache: ['blocks.0.mlp.hook_pre', 'blocks.1.mlp.hook_pre'] }).logits!);
  const reference = T.withBackend(new T.ReferenceBackend(), () => T.noGrad(() => model.forward(seqs)));
  for (const other of [watched, reference]) {
    let worst = 0;
    for (let i = 0; i < fast.size; i++) worst = Math.max(worst, Math.abs(fast.data[i]! - other.data[i]!));
    assert.ok(worst < 1e-4, `max |difference| ${worst}`);
  }
});
