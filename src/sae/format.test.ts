import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FormatError, InputError } from '../errors.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import { Rng, Tensor } from '../tensor/index.js';
import * as T from '../tensor/index.js';
import { defaultConfig, type SaeConfig } from './config.js';
import { CFG_FILE, loadSae, saveSae, WEIGHTS_FILE } from './format.js';
import { Sae } from './sae.js';

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-saefmt-'));
}

function randomSae(partial: Partial<SaeConfig> & Pick<SaeConfig, 'architecture' | 'dIn' | 'dSae'>): Sae {
  const sae = Sae.zeros(defaultConfig({ hookName: 'blocks.0.hook_resid_post', modelName: 'm', ...partial }));
  const rng = new Rng(1);
  for (const t of Object.values(sae.params)) if (t) for (let i = 0; i < t.size; i++) t.data[i] = rng.normal();
  if (sae.params.threshold_F) sae.params.threshold_F.data.forEach((_, i, a) => (a[i] = 0.1 + rng.uniform()));
  return sae;
}

test('save/load round-trips every architecture in SAELens layout, with W_enc stored [d_in, d_sae]', () => {
  const dir = tmpdir();
  try {
    for (const partial of [
      { architecture: 'relu', dIn: 6, dSae: 10 },
      { architecture: 'topk', dIn: 6, dSae: 10, k: 3 },
      { architecture: 'batchtopk', dIn: 6, dSae: 10, k: 3 },
      { architecture: 'jumprelu', dIn: 6, dSae: 10 },
      { architecture: 'gated', dIn: 6, dSae: 10 },
      { architecture: 'transcoder-topk', dIn: 6, dOut: 4, dSae: 10, k: 2, skip: true, hookNameOut: 'blocks.0.hook_mlp_out' },
      { architecture: 'transcoder-relu', dIn: 6, dOut: 4, dSae: 10, hookNameOut: 'blocks.0.hook_mlp_out' },
    ] as const) {
      const sae = randomSae(partial);
      const out = path.join(dir, partial.architecture);
      saveSae(sae, out);
      const cfg = JSON.parse(fs.readFileSync(path.join(out, CFG_FILE), 'utf8'));
      assert.equal(cfg.architecture, { relu: 'standard', 'transcoder-relu': 'transcoder' }[partial.architecture as string] ?? partial.architecture);
      assert.equal(cfg.d_in, 6);
      assert.equal(cfg.d_sae, 10);
      assert.equal(cfg.hook_name, 'blocks.0.hook_resid_post');
      assert.equal(cfg.model_name, 'm');
      assert.equal(cfg.normalize_activations, 'none');
      const { tensors } = readSafetensors(path.join(out, WEIGHTS_FILE));
      assert.deepEqual(tensors.get('W_enc')!.shape, [6, 10]);
      assert.deepEqual(tensors.get('W_dec')!.shape, [10, sae.dOut]);
      assert.equal(tensors.get('W_enc')!.data[1 * 10 + 2], sae.params.W_enc_FD.data[2 * 6 + 1], 'W_enc[1, 2] is latent 2 reading input 1');
      const back = loadSae(out);
      assert.deepEqual(back.cfg, sae.cfg);
      for (const [name, t] of Object.entries(sae.params)) assert.deepEqual((back.params as any)[name]?.data, t?.data, name);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('saving folds the normalisation: the saved SAE gives the same latents and output on raw activations', () => {
  const dir = tmpdir();
  try {
    const sae = randomSae({ architecture: 'topk', dIn: 5, dSae: 9, k: 3 });
    const scaled = new Sae({ ...sae.cfg, normalizeActivations: 'expected_average_only_in', scalingFactor: 0.37, scalingFactorOut: 0.37 }, sae.params);
    saveSae(scaled, dir);
    const back = loadSae(dir);
    const x = T.randn([4, 5], new Rng(3));
    const a = T.noGrad(() => scaled.forward(x));
    const b = T.noGrad(() => back.forward(x));
    for (let i = 0; i < a.latents.size; i++) assert.ok(Math.abs(a.latents.data[i]! - b.latents.data[i]!) < 1e-4);
    for (let i = 0; i < a.output.size; i++) assert.ok(Math.abs(a.output.data[i]! - b.output.data[i]!) < 1e-4);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('SAELens names load explicitly: "standard" is relu, or topk when activation_fn_str says so', () => {
  const dir = tmpdir();
  try {
    const sae = randomSae({ architecture: 'topk', dIn: 4, dSae: 8, k: 2 });
    saveSae(sae, dir);
    const cfgPath = path.join(dir, CFG_FILE);
    const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
    delete cfg.k;
    fs.writeFileSync(cfgPath, JSON.stringify({ ...cfg, architecture: 'standard', activation_fn_str: 'topk', activation_fn_kwargs: { k: 2 } }));
    assert.equal(loadSae(dir).cfg.architecture, 'topk');
    fs.writeFileSync(cfgPath, JSON.stringify({ ...cfg, architecture: 'standard' }));
    assert.equal(loadSae(dir).cfg.architecture, 'relu');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('bad SAE directories fail with clear errors', () => {
  const dir = tmpdir();
  try {
    const sae = randomSae({ architecture: 'jumprelu', dIn: 4, dSae: 8 });
    saveSae(sae, dir);
    const cfgPath = path.join(dir, CFG_FILE);
    const good = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
    const expectError = (cfg: unknown, cls: Function, pattern: RegExp): void => {
      fs.writeFileSync(cfgPath, JSON.stringify(cfg));
      assert.throws(() => loadSae(dir), (e: unknown) => e instanceof cls && pattern.test((e as Error).message));
    };
    expectError({ ...good, architecture: 'toppk' }, FormatError, /unknown SAE architecture "toppk".*closest: topk/);
    const { architecture: _, ...noArch } = good;
    expectError(noArch, FormatError, /no "architecture"; refusing to guess/);
    expectError({ ...good, d_sae: 16 }, FormatError, /"W_enc" is \[4, 8\] but cfg.json .* needs \[4, 16\]/);
    expectError({ ...good, architecture: 'topk' }, FormatError, /architecture "topk" needs "k"/);
    expectError({ ...good, normalize_activations: 'constant_norm_rescale' }, FormatError, /not supported/);
    fs.writeFileSync(cfgPath, JSON.stringify(good));
    // Missing threshold: a JumpReLU's weights without one must not load as something else.
    const { tensors } = readSafetensors(path.join(dir, WEIGHTS_FILE));
    tensors.delete('threshold');
    writeSafetensors(path.join(dir, WEIGHTS_FILE), new Map([...tensors].map(([n, t]) => [n, { dtype: 'F32' as const, shape: t.shape, data: t.data }])));
    assert.throws(() => loadSae(dir), /missing tensor "threshold"/);
    assert.throws(() => loadSae(path.join(dir, 'nope')), InputError);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('encode/decode as tensor ops: differentiable in the input, sparse encode agrees with dense', () => {
  const sae = randomSae({ architecture: 'topk', dIn: 5, dSae: 9, k: 3 });
  const x = new Tensor(T.randn([3, 5], new Rng(4)).data, [3, 5], true);
  const { latents, output } = sae.forward(x);
  assert.deepEqual(latents.shape, [3, 9]);
  for (let r = 0; r < 3; r++) assert.ok(latents.data.slice(r * 9, r * 9 + 9).filter((v) => v !== 0).length <= 3);
  T.backward(T.sum(output));
  assert.ok(x.grad && x.grad.data.some((v) => v !== 0));
  const sparse = sae.encodeSparse(x.data, 3);
  for (let r = 0; r < 3; r++)
    for (let e = sparse.rowPtr[r]!; e < sparse.rowPtr[r + 1]!; e++) assert.equal(sparse.val[e], latents.data[r * 9 + sparse.idx[e]!]);
  assert.throws(() => sae.encode(T.randn([2, 4], new Rng(1))), /last dimension of 5/);
});
