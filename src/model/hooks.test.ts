import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError, ShapeError } from '../errors.js';
import * as T from '../tensor/index.js';
import { hookShape } from './hooks.js';
import { SMALL_MODEL_CONFIGS, smallModel } from './testing/models.js';
import { randomIds } from './testing/fixtures.js';

const ids = randomIds(12, 41, 5);

test('every hook point is recorded with its documented shape, for every family', () => {
  for (const name of Object.keys(SMALL_MODEL_CONFIGS)) {
    const model = smallModel(name);
    const c = model.config;
    const { cache } = model.run([ids, ids.slice(0, 9)], { cache: true });
    const dims: Record<string, number> = {
      batch: 2, pos: 12, query_pos: 12, key_pos: 12, d_model: c.dModel, d_head: c.dHead, head_index: c.nHeads,
      kv_head_index: c.nKvHeads, d_mlp: c.dMlp, d_vocab: c.vocabSize, '1': 1,
    };
    assert.deepEqual(cache.names().sort(), model.hookNames().sort(), name);
    for (const hook of model.hookNames()) {
      assert.deepEqual(cache.get(hook).shape, hookShape(hook, c).map((d) => dims[d]), `${name} ${hook}`);
    }
  }
});

test('hook names follow the architecture: no resid_mid in parallel blocks, no MLP hooks when attention-only', () => {
  const neox = smallModel('neox').hookNames();
  assert.ok(!neox.some((n) => n.includes('hook_resid_mid')));
  assert.ok(neox.includes('blocks.1.attn.hook_rot_k'));
  const attnOnly = smallModel('attn-only').hookNames();
  assert.ok(!attnOnly.some((n) => n.includes('mlp') || n.includes('ln2')));
  assert.ok(attnOnly.includes('hook_pos_embed'));
  assert.ok(smallModel('llama-gqa').hookNames().includes('blocks.0.mlp.hook_pre_linear'));
});

test('only the hooks asked for are cached; unknown names fail with the closest names', () => {
  const model = smallModel('gpt2');
  const { cache } = model.run(ids, { cache: ['blocks.0.hook_resid_post', 'blocks.1.attn.hook_pattern'] });
  assert.deepEqual(cache.names().sort(), ['blocks.0.hook_resid_post', 'blocks.1.attn.hook_pattern']);
  assert.throws(() => cache.get('blocks.0.hook_resid_pre'), /not cached/);
  assert.throws(
    () => model.run(ids, { cache: ['blocks.0.hook_resid_psot'] }),
    (e: unknown) => e instanceof InputError && /closest: blocks\.0\.hook_resid_post/.test(e.message),
  );
  assert.throws(() => model.run(ids, { hooks: [{ name: 'blocks.9.hook_mlp_out', fn: () => {} }] }), InputError);
  const filtered = model.run(ids, { cache: (n) => n.endsWith('hook_resid_pre') }).cache;
  assert.deepEqual(filtered.names(), ['blocks.0.hook_resid_pre', 'blocks.1.hook_resid_pre']);
});

test('hook_result sums over heads (plus b_O) to hook_attn_out, and asking for it does not change the logits', () => {
  const model = smallModel('gpt2');
  const plain = model.forward(ids);
  const { logits, cache } = model.run(ids, { cache: ['blocks.1.attn.hook_result', 'blocks.1.hook_attn_out'] });
  assert.ok(maxDiff(plain.data, logits!.data) < 1e-5);
  const summed = T.add(T.sum(cache.get('blocks.1.attn.hook_result'), 2), model.params.blocks[1]!.attn.b_O!);
  assert.ok(maxDiff(summed.data, cache.get('blocks.1.hook_attn_out').data) < 1e-5);
});

test('norm hooks: hook_normalized * hook_scale recovers the centred input, and the composed path matches the fused one', () => {
  for (const name of ['gpt2', 'llama-gqa']) {
    const model = smallModel(name);
    const plain = model.forward(ids);
    const { logits, cache } = model.run(ids, { cache: ['blocks.0.hook_resid_mid', 'blocks.0.ln2.hook_scale', 'blocks.0.ln2.hook_normalized', 'ln_final.hook_scale'] });
    assert.ok(maxDiff(plain.data, logits!.data) < 1e-5, name);
    const x = cache.get('blocks.0.hook_resid_mid');
    const centred = model.config.norm === 'layer' ? T.sub(x, T.mean(x, -1, true)) : x;
    const back = T.mul(cache.get('blocks.0.ln2.hook_normalized'), cache.get('blocks.0.ln2.hook_scale'));
    assert.ok(maxDiff(back.data, centred.data) < 1e-5, name);
  }
});

test('forward hooks patch activations (zero-ablation changes the output; replacing resid_post decides the logits)', () => {
  const model = smallModel('llama-gqa');
  const plain = model.forward(ids);
  const ablated = model.run(ids, { hooks: [{ name: 'blocks.0.hook_attn_out', fn: (a) => T.Tensor.zeros(a.shape) }] }).logits!;
  assert.ok(maxDiff(plain.data, ablated.data) > 1e-3);
  // Replace the final residual by another prompt's: the logits become that prompt's.
  const other = randomIds(12, 41, 99);
  const otherRun = model.run(other, { cache: ['blocks.1.hook_resid_post'] });
  const patched = model.run(ids, { hooks: [{ name: 'blocks.1.hook_resid_post', fn: () => otherRun.cache.get('blocks.1.hook_resid_post') }] }).logits!;
  assert.ok(maxDiff(patched.data, otherRun.logits!.data) < 1e-6);
  // A hook that only reads leaves everything as it was.
  let seen = 0;
  const read = model.run(ids, { hooks: [{ name: (n) => n.endsWith('hook_pattern'), fn: (a, ctx) => void (seen += a.shape[1]! * (ctx.layer! + 1)) }] }).logits!;
  assert.ok(maxDiff(read.data, plain.data) < 1e-5); // reading the pattern switches to the unfused path: rounding only
  assert.equal(seen, 4 * 1 + 4 * 2);
  assert.throws(() => model.run(ids, { hooks: [{ name: 'blocks.0.hook_attn_out', fn: () => T.Tensor.zeros([1, 2, 3]) }] }), ShapeError);
});

test('withHooks scopes interventions to a call, and removes them when it throws', async () => {
  const model = smallModel('gpt2');
  const plain = model.forward(ids);
  const zero = [{ name: 'blocks.1.hook_mlp_out', fn: (a: T.Tensor) => T.Tensor.zeros(a.shape) }];
  const inside = model.withHooks(zero, () => model.forward(ids));
  assert.ok(maxDiff(inside.data, plain.data) > 1e-4);
  assert.equal(model.scopedHookCount, 0);
  assert.throws(() => model.withHooks(zero, () => {
    model.forward(ids);
    throw new Error('boom');
  }), /boom/);
  assert.equal(model.scopedHookCount, 0);
  await assert.rejects(model.withHooks(zero, async () => {
    await Promise.resolve();
    throw new Error('async boom');
  }), /async boom/);
  assert.equal(model.scopedHookCount, 0);
  assert.deepEqual(model.forward(ids).data, plain.data);
  // A hook that throws inside a run leaves nothing behind either.
  assert.throws(() => model.run(ids, { hooks: [{ name: 'hook_embed', fn: () => { throw new Error('in hook'); } }] }), /in hook/);
  assert.deepEqual(model.forward(ids).data, plain.data);
});

/** metric: log-probability of token 7 at the last position. */
const metric = (logits: T.Tensor): T.Tensor => {
  const [, Tn, V] = logits.shape as [number, number, number];
  const last = T.slice(T.logSoftmax(T.reshape(logits, [Tn, V]), -1), 0, Tn - 1, Tn);
  return T.slice(T.reshape(last, [V]), 0, 7, 8);
};

test('gradients with respect to activations match finite differences', () => {
  for (const name of ['gpt2', 'llama-gqa', 'neox']) {
    const model = smallModel(name);
    const hooksAt = ['blocks.0.hook_resid_post', 'blocks.1.attn.hook_v', 'blocks.0.ln1.hook_scale'];
    const g = model.runWithGradients(ids, metric, hooksAt);
    for (const hook of hooksAt) {
      const act = g.activations.get(hook)!;
      const grad = g.grads.get(hook)!;
      assert.deepEqual(grad.shape, act.shape);
      for (const i of [0, Math.floor(act.size / 2), act.size - 1]) {
        const at = (eps: number): number => {
          const r = model.run(ids, { hooks: [{ name: hook, fn: (a) => { const d = a.data.slice(); d[i] += eps; return new T.Tensor(d, a.shape); } }], withGrad: false });
          return metric(r.logits!).item();
        };
        const eps = 1e-2;
        const fd = (at(eps) - at(-eps)) / (2 * eps);
        assert.ok(Math.abs(fd - grad.data[i]!) < 2e-3 + 2e-2 * Math.abs(fd), `${name} ${hook}[${i}]: fd ${fd} vs ${grad.data[i]}`);
      }
    }
  }
});

test('gradient hooks read and replace gradients during backward', () => {
  const model = smallModel('gpt2');
  const ref = model.runWithGradients(ids, metric, ['blocks.1.hook_resid_mid']);
  let seen: Float32Array | null = null;
  const r = model.run(ids, { gradHooks: [{ name: 'blocks.1.hook_resid_mid', fn: (g) => void (seen = g.slice()) }], capture: ['hook_embed'] });
  const m = metric(r.logits!);
  T.grad(m, [r.captured.get('hook_embed')!]);
  assert.ok(seen && maxDiff(seen, ref.grads.get('blocks.1.hook_resid_mid')!.data) < 1e-6);
  // Every path from the embedding to the logits goes through blocks.1.hook_resid_pre: zero it there.
  const cut = model.run(ids, { gradHooks: [{ name: 'blocks.1.hook_resid_pre', fn: (g) => new Float32Array(g.length) }], capture: ['hook_embed'] });
  const [gEmbed] = T.grad(metric(cut.logits!), [cut.captured.get('hook_embed')!]);
  assert.ok(gEmbed!.every((v) => v === 0));
});

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
