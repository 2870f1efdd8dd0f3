// The Gated SAE against independent references: a float64 scalar forward written from the paper's
// definition (W_mag = W_gate * exp(r_mag) built explicitly), the hand-derived training step as a tape op
// checked by the gradient checker against finite differences of a float64 loss with the decoder frozen
// where the paper freezes it, recovery of ground truth on synthetic data, and the SAELens layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../tensor/backend/native/index.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FormatError } from '../../errors.js';
import { SyntheticSource } from '../../activations/synthetic.js';
import { readSafetensors, writeSafetensors } from '../../io/safetensors.js';
import * as T from '../../tensor/index.js';
import { Rng, Tensor, result } from '../../tensor/index.js';
import { assertClose, assertGradcheck } from '../../tensor/testing/index.js';
import { defaultConfig, type SaeConfig } from '../config.js';
import { CFG_FILE, loadSae, saveSae, WEIGHTS_FILE } from '../format.js';
import { Sae } from '../sae.js';
import { trainSae } from '../trainer.js';
import { StepContext, trainStep, type RuleOptions } from '../train-step.js';
import { gatedActivate } from './gated.js';

const OPTS: RuleOptions = {
  l1Coefficient: 0.3,
  l0Coefficient: 0,
  sparsityWarmupSteps: 0,
  bandwidth: 0,
  initThreshold: 0,
  thresholdLrScale: 1,
  auxKCoefficient: 0,
  kAux: 1,
  thresholdMomentum: 0,
};

function randomGated(dIn: number, dSae: number, seed: number, partial: Partial<SaeConfig> = {}): Sae {
  const sae = Sae.zeros(defaultConfig({ architecture: 'gated', dIn, dSae, hookName: 'blocks.0.hook_resid_post', modelName: 'm', ...partial }));
  const rng = new Rng(seed);
  for (const t of Object.values(sae.params)) if (t) for (let i = 0; i < t.size; i++) t.data[i] = 0.5 * rng.normal();
  return sae;
}

function randomRows(n: number, d: number, rng: Rng, std = 1): Float32Array {
  return new Float32Array(n * d).map(() => std * rng.normal());
}

/** Latents and reconstruction of raw rows x [n, D], in float64 loops straight from the definition. */
function scalarForward(sae: Sae, x: Float32Array, n: number): { gate: Float64Array; latents: Float64Array; output: Float64Array } {
  const { dIn: D, dSae: F, dOut: O, scalingFactor: s, scalingFactorOut: so } = sae.cfg;
  const p = sae.params;
  const norm = sae.cfg.normalizeActivations === 'expected_average_only_in';
  const gate = new Float64Array(n * F);
  const latents = new Float64Array(n * F);
  const output = new Float64Array(n * O);
  for (let r = 0; r < n; r++) {
    const xin = Array.from({ length: D }, (_, j) => (norm ? s : 1) * x[r * D + j]! - p.b_dec_O.data[j]!);
    for (let f = 0; f < F; f++) {
      const wMag = (j: number): number => p.W_enc_FD.data[f * D + j]! * Math.exp(p.r_mag_F!.data[f]!);
      let piGate = p.b_enc_F.data[f]!;
      let piMag = p.b_mag_F!.data[f]!;
      for (let j = 0; j < D; j++) {
        piGate += p.W_enc_FD.data[f * D + j]! * xin[j]!;
        piMag += wMag(j) * xin[j]!;
      }
      gate[r * F + f] = piGate;
      latents[r * F + f] = (piGate > 0 ? 1 : 0) * Math.max(0, piMag);
    }
    for (let j = 0; j < O; j++) {
      let v = p.b_dec_O.data[j]!;
      for (let f = 0; f < F; f++) v += latents[r * F + f]! * p.W_dec_FO.data[f * O + j]!;
      output[r * O + j] = norm ? v / so : v;
    }
  }
  return { gate, latents, output };
}

test('gated forward and sparse encoder match a float64 scalar reference of the definition', () => {
  for (const partial of [{}, { normalizeActivations: 'expected_average_only_in' as const, scalingFactor: 0.6, scalingFactorOut: 0.6 }]) {
    const sae = randomGated(6, 20, 4, partial);
    const n = 30;
    const x = randomRows(n, 6, new Rng(9), 1.5);
    const want = scalarForward(sae, x, n);
    const { latents, output } = T.noGrad(() => sae.forward(new Tensor(x, [n, 6])));
    assertClose(latents.data, want.latents, { atol: 1e-5, rtol: 1e-5 }, 'latents');
    assertClose(output.data, want.output, { atol: 1e-5, rtol: 1e-5 }, 'output');
    const sparse = sae.encodeSparse(x, n);
    const dense = new Float64Array(n * 20);
    for (let r = 0; r < n; r++) for (let e = sparse.rowPtr[r]!; e < sparse.rowPtr[r + 1]!; e++) dense[r * 20 + sparse.idx[e]!] = sparse.val[e]!;
    assertClose(dense, want.latents, { atol: 1e-5, rtol: 1e-5 }, 'encodeSparse');
    // Every case of the definition occurs: open gate with a positive magnitude, open gate with a clipped
    // one, closed gate over a positive magnitude (which a plain ReLU of pi_mag would have let through).
    let [on, clipped, shut] = [0, 0, 0];
    for (let i = 0; i < n * 20; i++) {
      if (want.gate[i]! > 0) want.latents[i]! > 0 ? on++ : clipped++;
      else if (sae.params.b_mag_F!.data[i % 20]! + Math.exp(sae.params.r_mag_F!.data[i % 20]!) * (want.gate[i]! - sae.params.b_enc_F.data[i % 20]!) > 0) shut++;
    }
    assert.ok(on > 20 && clipped > 5 && shut > 5, `cases: ${on} on, ${clipped} clipped, ${shut} shut`);
  }
});

test('the tape activation (inference, attribution) has the gradient finite differences give', () => {
  const sae = randomGated(4, 7, 2);
  const { b_enc_F: bGate, r_mag_F: r, b_mag_F: bMag } = sae.params;
  // Pre-activations away from both kinks: the gate's step at 0 and the magnitude's relu.
  const rng = new Rng(3);
  const pre = new Float32Array(5 * 7).map((_, i) => {
    const f = i % 7;
    for (;;) {
      const v = rng.normal();
      const mag = Math.exp(r!.data[f]!) * (v - bGate.data[f]!) + bMag!.data[f]!;
      if (Math.abs(v) > 0.05 && Math.abs(mag) > 0.05) return v;
    }
  });
  assertGradcheck('gatedActivate', (p) => gatedActivate(p, sae), [new Tensor(pre, [5, 7])]);
});

const PARAMS = ['W_enc_FD', 'b_enc_F', 'r_mag_F', 'b_mag_F', 'W_dec_FO', 'b_dec_O'] as const;

/**
 * The loss of the paper in float64 loops at parameters v (in PARAMS order), with the auxiliary
 * reconstruction through a frozen decoder (frozenW, frozenB) that does not move with v.
 */
function referenceLoss(v: readonly Float64Array[], x: Float32Array, B: number, D: number, F: number, frozenW: Float32Array, frozenB: Float32Array): { mse: number; l1: number; aux: number } {
  const [We, bGate, rMag, bMag, Wd, bd] = v as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  const norms = Array.from({ length: F }, (_, f) => Math.hypot(...Wd.subarray(f * D, (f + 1) * D)));
  let mse = 0;
  let l1 = 0;
  let aux = 0;
  for (let b = 0; b < B; b++) {
    const xin = Array.from({ length: D }, (_, j) => x[b * D + j]! - bd[j]!);
    const acts = new Float64Array(F);
    const gateRelu = new Float64Array(F);
    for (let f = 0; f < F; f++) {
      let piGate = bGate[f]!;
      let piMag = bMag[f]!;
      for (let j = 0; j < D; j++) {
        piGate += We[f * D + j]! * xin[j]!;
        piMag += We[f * D + j]! * Math.exp(rMag[f]!) * xin[j]!;
      }
      acts[f] = piGate > 0 ? Math.max(0, piMag) : 0;
      gateRelu[f] = Math.max(0, piGate);
      l1 += gateRelu[f]! * norms[f]!;
    }
    for (let j = 0; j < D; j++) {
      let recon = bd[j]!;
      let viaGate = frozenB[j]!;
      for (let f = 0; f < F; f++) {
        recon += acts[f]! * Wd[f * D + j]!;
        viaGate += gateRelu[f]! * frozenW[f * D + j]!;
      }
      mse += (recon - x[b * D + j]!) ** 2;
      aux += (viaGate - x[b * D + j]!) ** 2;
    }
  }
  return { mse: mse / B, l1: (OPTS.l1Coefficient * l1) / B, aux: aux / B };
}

test('training step: the loss and the gradient of every parameter match finite differences of the float64 loss', () => {
  const D = 5;
  const F = 12;
  const B = 6;
  const sae = randomGated(D, F, 7);
  const x = randomRows(B, D, new Rng(11), 1.5);
  const base = PARAMS.map((n) => sae.params[n]!.data.slice());
  const frozenW = base[4]!.slice();
  const frozenB = base[5]!.slice();
  const total = (l: { mse: number; l1: number; aux: number }): number => l.mse + l.l1 + l.aux;

  // Finite differences across the gate's step or a relu are meaningless: every kink is kept well
  // outside the checker's steps (1e-5 relative).
  const { gate } = scalarForward(sae, x, B);
  for (let i = 0; i < gate.length; i++) assert.ok(Math.abs(gate[i]!) > 1e-3, `pi_gate[${i}] = ${gate[i]} is too close to the step`);

  // The hand-derived step as a tape op of the six parameters: forward = its loss, backward = its gradients.
  let ctx: StepContext | null = null;
  const step = (...ps: Tensor[]): Tensor => {
    PARAMS.forEach((n, i) => sae.params[n]!.data.set(ps[i]!.data));
    ctx = new StepContext(sae);
    const rule = sae.arch.trainingRule(sae, OPTS);
    trainStep(ctx, rule, x, x, B);
    const byName: Record<string, Float32Array> = { ...(ctx.grads as unknown as Record<string, Float32Array>) };
    for (const e of rule.extraParams) byName[`${e.name}_F`] = e.grad;
    const grads = PARAMS.map((n) => byName[n]!.slice());
    return result(Float32Array.of(ctx.totalLoss), [1], 'gated step', ps, (g) => grads.map((d) => d.map((v) => v * g[0]!)));
  };
  const inputs = PARAMS.map((n, i) => new Tensor(base[i]!.slice(), sae.params[n]!.shape));
  const report = assertGradcheck('gated training step', step, inputs, {
    reference: (v) => [total(referenceLoss(v, x, B, D, F, frozenW, frozenB))],
    step: 1e-5,
  });
  assert.equal(report.checked, base.reduce((s, d) => s + d.length, 0), 'every element of every parameter');

  // Each loss term on its own, at the base point.
  PARAMS.forEach((n, i) => sae.params[n]!.data.set(base[i]!));
  step(...inputs);
  const want = referenceLoss(base.map((d) => Float64Array.from(d)), x, B, D, F, frozenW, frozenB);
  for (const term of ['mse', 'l1', 'aux'] as const) {
    assert.ok(Math.abs(ctx!.losses[term]! - want[term]) < 1e-5 * Math.max(1, want[term]), `${term}: step ${ctx!.losses[term]} vs reference ${want[term]}`);
  }

  // The stop-gradient matters: without it W_dec's gradient would also carry the auxiliary term's
  // share, so the check above tells the two losses apart.
  const unfrozen = (v: readonly Float64Array[]): number => total(referenceLoss(v, x, B, D, F, Float32Array.from(v[4]!), Float32Array.from(v[5]!)));
  const v0 = base.map((d) => Float64Array.from(d));
  const h = 1e-6;
  let diff = 0;
  let size = 0;
  for (let i = 0; i < v0[4]!.length; i++) {
    v0[4]![i] = base[4]![i]! + h;
    const up = unfrozen(v0);
    v0[4]![i] = base[4]![i]! - h;
    const down = unfrozen(v0);
    v0[4]![i] = base[4]![i]!;
    diff += ((up - down) / (2 * h) - ctx!.grads.W_dec_FO[i]!) ** 2;
    size += ctx!.grads.W_dec_FO[i]! ** 2;
  }
  assert.ok(Math.sqrt(diff / size) > 0.1, `W_dec's gradient without the stop-gradient differs by only ${Math.sqrt(diff / size)} (relative)`);
});

/** For each ground-truth direction, the best cosine with any decoder row. */
function recovery(sae: Sae, truth: Float32Array, d: number): number[] {
  const dirs = Array.from({ length: sae.dSae }, (_, f) => sae.decoderDirection(f));
  return Array.from({ length: truth.length / d }, (_, t) => Math.max(...dirs.map((w) => w.reduce((s, v, j) => s + v * truth[t * d + j]!, 0))));
}

test('a gated SAE recovers the ground-truth directions of synthetic data', async () => {
  const source = (): SyntheticSource => new SyntheticSource({ dIn: 24, features: 40, activePerRow: 3, noise: 0.01, offset: 2, seed: 1, chunkRows: 512 });
  const opts = { architecture: 'gated', latents: 64, l1Coefficient: 2, batchSize: 64, seed: 0 } as const;
  const r = await trainSae({ ...opts, source: source(), lr: 0.01, tokens: 60_000, bufferRows: 8192 });
  const s = source();
  const cos = recovery(r.sae, s.directions, 24);
  const found = cos.filter((c) => c > 0.9).length;
  assert.ok(found >= 34, `${found}/40 directions recovered at cosine > 0.9 (${cos.map((c) => c.toFixed(2)).join(' ')}); final ${JSON.stringify(r.final)}`);
  assert.ok(r.final.fvu < 0.2, `final batch FVU ${r.final.fvu}`);
  assert.ok(r.final.l0 < 16, `final L0 ${r.final.l0} of 64 latents (3 directions per row)`);
  // An untrained dictionary of the same size finds almost none: the test can fail.
  const untrained = await trainSae({ ...opts, source: source(), lr: 0, tokens: 1000, bufferRows: 1024 });
  assert.ok(recovery(untrained.sae, s.directions, 24).filter((c) => c > 0.9).length < 5);
});

test('gated SAEs save and load in SAELens layout (b_gate, r_mag, b_mag, no b_enc), folding the input scale', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-gated-'));
  try {
    const sae = randomGated(6, 10, 5, { normalizeActivations: 'expected_average_only_in', scalingFactor: 0.37, scalingFactorOut: 0.37 });
    saveSae(sae, dir);
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, CFG_FILE), 'utf8'));
    assert.equal(cfg.architecture, 'gated');
    assert.equal(cfg.normalize_activations, 'none');
    assert.equal(cfg.k, undefined);
    const { tensors } = readSafetensors(path.join(dir, WEIGHTS_FILE));
    assert.deepEqual([...tensors.keys()].sort(), ['W_dec', 'W_enc', 'b_dec', 'b_gate', 'b_mag', 'r_mag']);
    assert.deepEqual(tensors.get('W_enc')!.shape, [6, 10]);
    for (const name of ['b_gate', 'r_mag', 'b_mag']) assert.deepEqual(tensors.get(name)!.shape, [10]);
    const back = loadSae(dir);
    assert.equal(back.cfg.architecture, 'gated');
    const folded = sae.folded();
    for (const [name, t] of Object.entries(folded.params)) assert.deepEqual((back.params as unknown as Record<string, Tensor | null>)[name]?.data, t?.data, name);
    // The saved (folded) SAE reads raw activations exactly as the scaled one did.
    const x = new Tensor(randomRows(7, 6, new Rng(2), 3), [7, 6]);
    const a = T.noGrad(() => sae.forward(x));
    const b = T.noGrad(() => back.forward(x));
    assertClose(b.latents.data, a.latents.data, { atol: 1e-5, rtol: 1e-4 }, 'latents');
    assertClose(b.output.data, a.output.data, { atol: 1e-5, rtol: 1e-4 }, 'output');

    // A SAELens file missing a gated tensor is refused by name, never loaded as something else.
    const partial = Object.fromEntries([...tensors].filter(([n]) => n !== 'r_mag').map(([n, t]) => [n, { dtype: 'F32' as const, shape: t.shape, data: t.data }]));
    writeSafetensors(path.join(dir, WEIGHTS_FILE), partial, { format: 'pt' });
    assert.throws(() => loadSae(dir), (err: unknown) => err instanceof FormatError && /missing tensor "r_mag" \[10\] that a gated/.test((err as Error).message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a SAELens v5-style gated cfg.json loads', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-gated-'));
  try {
    const sae = randomGated(4, 8, 6);
    saveSae(sae, dir);
    // The fields SAELens writes for its gated SAEs, and none of Loupe's.
    const cfg = { architecture: 'gated', d_in: 4, d_sae: 8, dtype: 'float32', device: 'cpu', model_name: 'm', hook_name: 'blocks.0.hook_resid_post', hook_layer: 0, hook_head_index: null, activation_fn_str: 'relu', apply_b_dec_to_input: true, finetuning_scaling_factor: false, context_size: 128, dataset_path: '', prepend_bos: true, normalize_activations: 'none' };
    fs.writeFileSync(path.join(dir, CFG_FILE), JSON.stringify(cfg));
    const back = loadSae(dir);
    assert.equal(back.cfg.architecture, 'gated');
    assert.deepEqual(back.params.r_mag_F!.data, sae.params.r_mag_F!.data);
    assert.deepEqual(back.params.b_enc_F.data, sae.params.b_enc_F.data);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('resuming a gated run from a checkpoint gives exactly the uninterrupted weights (r_mag, b_mag and their Adam moments kept)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-gated-'));
  try {
    const source = (): SyntheticSource => new SyntheticSource({ dIn: 12, features: 20, activePerRow: 2, seed: 4, chunkRows: 256 });
    const opts = { architecture: 'gated', latents: 24, l1Coefficient: 0.5, tokens: 128 * 10, batchSize: 128, bufferRows: 1000, seed: 3, lr: 0.01 } as const;
    const full = await trainSae({ ...opts, source: source(), out: path.join(dir, 'full'), checkpointEvery: 4, keepCheckpoints: 5 });
    const resumed = await trainSae({ ...opts, source: source(), resume: path.join(dir, 'full', 'checkpoints', 'step-000004') });
    assert.equal(resumed.steps, 10);
    for (const name of PARAMS) assert.deepEqual(resumed.sae.params[name]!.data, full.sae.params[name]!.data, name);
    assert.ok(full.sae.params.r_mag_F!.data.some((v) => v !== 0), 'r_mag trained');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
