// The hand-derived training step against two independent references: the same loss composed from the
// tensor library's generic ops (tape autodiff), and central finite differences of that loss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { Rng, Tensor } from '../tensor/index.js';
import { defaultConfig, type SaeConfig } from './config.js';
import { topkActivate } from './architectures/topk.js';
import { Sae } from './sae.js';
import { StepContext, trainStep, type RuleOptions } from './train-step.js';

const OPTS: RuleOptions = {
  l1Coefficient: 0.3,
  l0Coefficient: 0.2,
  sparsityWarmupSteps: 0,
  bandwidth: 0.5,
  initThreshold: 0.1,
  thresholdLrScale: 10,
  auxKCoefficient: 1 / 32,
  kAux: 3,
  thresholdMomentum: 0.9,
};

function randomSae(partial: Partial<SaeConfig> & Pick<SaeConfig, 'architecture' | 'dIn' | 'dSae'>, seed: number): Sae {
  const sae = Sae.zeros(defaultConfig(partial));
  const rng = new Rng(seed);
  for (const t of Object.values(sae.params)) if (t) for (let i = 0; i < t.size; i++) t.data[i] = rng.normal() * 0.5;
  if (sae.params.threshold_F) for (let i = 0; i < sae.dSae; i++) sae.params.threshold_F.data[i] = 0.05 + 0.3 * rng.uniform();
  return sae;
}

function randomRows(n: number, d: number, rng: Rng): Float32Array {
  const x = new Float32Array(n * d);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  return x;
}

/** The step's loss built from generic ops; returns the loss tensor and the parameter leaves. */
function referenceLoss(sae: Sae, x: Float32Array, y: Float32Array, B: number, dead: Uint8Array | null, leaves: Record<string, Tensor>): Tensor {
  const { dIn: D, dSae: F, dOut: O } = sae.cfg;
  const xT = new Tensor(x, [B, D]);
  const yT = new Tensor(y, [B, O]);
  const { W_enc_FD, b_enc_F, W_dec_FO, b_dec_O } = leaves as Record<string, Tensor>;
  const xin = sae.cfg.applyBDecToInput ? T.sub(xT, b_dec_O!) : xT;
  const pre = T.add(T.matmul(xin, W_enc_FD!, { transB: true }), b_enc_F!);
  const arch = sae.cfg.architecture;
  let acts: Tensor;
  if (arch.endsWith('topk') && arch !== 'batchtopk') acts = topkActivate(pre, sae.cfg.k!);
  else if (arch === 'batchtopk') acts = T.reshape(topkActivate(T.reshape(pre, [1, B * F]), sae.cfg.k! * B), [B, F]);
  else if (arch.endsWith('relu') && arch !== 'jumprelu') acts = T.relu(pre);
  else throw new Error(arch);
  let recon = T.add(T.matmul(acts, W_dec_FO!), b_dec_O!);
  if (leaves.W_skip_DO) recon = T.add(recon, T.matmul(xT, leaves.W_skip_DO));
  let loss = T.scale(T.sum(T.square(T.sub(recon, yT))), 1 / B);
  if (arch.endsWith('relu')) {
    const norms = T.sqrt(T.sum(T.square(W_dec_FO!), 1));
    loss = T.add(loss, T.scale(T.sum(T.mul(acts, norms)), OPTS.l1Coefficient / B));
  }
  if (dead && (arch.endsWith('topk'))) {
    let nDead = 0;
    for (const v of dead) nDead += v;
    const kAux = Math.min(OPTS.kAux, nDead);
    const notDead = new Uint8Array(B * F);
    for (let i = 0; i < notDead.length; i++) notDead[i] = dead[i % F] ? 0 : 1;
    const auxActs = topkActivate(T.maskedFill(pre, notDead, -Infinity), kAux);
    const residual = T.sub(yT, recon).detach();
    const auxRecon = T.matmul(auxActs, W_dec_FO!);
    const scale = OPTS.auxKCoefficient * Math.min(nDead / OPTS.kAux, 1);
    loss = T.add(loss, T.scale(T.sum(T.square(T.sub(auxRecon, residual))), scale / B));
  }
  return loss;
}

function leavesOf(sae: Sae): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(sae.params)) if (t && name !== 'threshold_F') out[name] = new Tensor(t.data, t.shape, true);
  return out;
}

function assertClose(got: Float32Array, want: Float32Array, what: string, tol = 2e-4): void {
  assert.equal(got.length, want.length, what);
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < got.length; i++) {
    if (Math.abs(got[i]! - want[i]!) > tol * Math.max(1, scale)) assert.fail(`${what}[${i}]: fused ${got[i]} vs reference ${want[i]}`);
  }
}

function checkAgainstTape(partial: Partial<SaeConfig> & Pick<SaeConfig, 'architecture' | 'dIn' | 'dSae'>, withDead: boolean): void {
  const sae = randomSae(partial, 7);
  const rng = new Rng(11);
  const B = 6;
  const x = randomRows(B, sae.dIn, rng);
  const y = sae.isTranscoder ? randomRows(B, sae.dOut, rng) : x;
  const ctx = new StepContext(sae);
  let dead: Uint8Array | null = null;
  if (withDead) {
    dead = new Uint8Array(sae.dSae);
    for (let f = 0; f < sae.dSae; f += 2) dead[f] = 1;
    ctx.setDead(dead);
  }
  const rule = sae.arch.trainingRule(sae, OPTS);
  trainStep(ctx, rule, x, y, B);
  const leaves = leavesOf(sae);
  const loss = referenceLoss(sae, x, y, B, dead, leaves);
  assert.ok(Math.abs(loss.item() - ctx.totalLoss) < 1e-4 * Math.max(1, Math.abs(loss.item())), `loss: fused ${ctx.totalLoss} vs reference ${loss.item()}`);
  T.backward(loss);
  const g = ctx.grads as unknown as Record<string, Float32Array>;
  for (const [name, leaf] of Object.entries(leaves)) assertClose(g[name]!, leaf.grad!.data, `${partial.architecture} d${name}`);
}

test('topk step: loss and gradients match tape autodiff of the same loss', () => {
  checkAgainstTape({ architecture: 'topk', dIn: 5, dSae: 12, k: 3 }, false);
});

test('topk step with AuxK on dead latents matches tape autodiff', () => {
  checkAgainstTape({ architecture: 'topk', dIn: 5, dSae: 12, k: 3 }, true);
});

test('batchtopk step (with AuxK) matches tape autodiff', () => {
  checkAgainstTape({ architecture: 'batchtopk', dIn: 5, dSae: 12, k: 3 }, true);
});

test('relu step with decoder-norm-weighted L1 matches tape autodiff', () => {
  checkAgainstTape({ architecture: 'relu', dIn: 5, dSae: 12 }, false);
});

test('transcoder steps (topk and relu, with skip) match tape autodiff', () => {
  checkAgainstTape({ architecture: 'transcoder-topk', dIn: 5, dOut: 4, dSae: 12, k: 3, skip: true }, true);
  checkAgainstTape({ architecture: 'transcoder-relu', dIn: 5, dOut: 4, dSae: 12, skip: true }, false);
});

// (AuxK's residual is detached, which finite differences cannot honour, so this checks the main loss.)
for (const arch of ['topk', 'relu', 'batchtopk'] as const) {
  test(`the tape reference itself agrees with finite differences (${arch})`, () => {
    const sae = randomSae({ architecture: arch, dIn: 4, dSae: 9, k: arch === 'relu' ? null : 2 }, 3);
    const rng = new Rng(5);
    const B = 4;
    const x = randomRows(B, 4, rng);
    const ctx = new StepContext(sae);
    trainStep(ctx, sae.arch.trainingRule(sae, OPTS), x, x, B);
    const lossAt = (): number => T.noGrad(() => referenceLoss(sae, x, x, B, null, leavesOf(sae)).item());
    const h = 1e-3;
    const g = ctx.grads as unknown as Record<string, Float32Array>;
    for (const name of ['W_enc_FD', 'b_enc_F', 'W_dec_FO', 'b_dec_O'] as const) {
      const p = sae.params[name].data;
      for (let i = 0; i < p.length; i += 3) {
        const v = p[i]!;
        p[i] = v + h;
        const up = lossAt();
        p[i] = v - h;
        const down = lossAt();
        p[i] = v;
        const fd = (up - down) / (2 * h);
        assert.ok(Math.abs(fd - g[name]![i]!) < 1e-2 * Math.max(1, Math.abs(fd)), `d${name}[${i}]: finite difference ${fd} vs fused ${g[name]![i]}`);
      }
    }
  });
}

test('jumprelu step: weight gradients match tape autodiff, threshold gradients match the straight-through formula', () => {
  const sae = randomSae({ architecture: 'jumprelu', dIn: 5, dSae: 12 }, 9);
  const rng = new Rng(2);
  const B = 8;
  const x = randomRows(B, 5, rng);
  const ctx = new StepContext(sae);
  const rule = sae.arch.trainingRule(sae, OPTS);
  trainStep(ctx, rule, x, x, B);
  // Reference for the weights: acts = pre * (pre > theta) with the mask as a constant.
  const leaves = leavesOf(sae);
  const theta = sae.params.threshold_F!.data;
  const xT = new Tensor(x, [B, 5]);
  const pre = T.add(T.matmul(T.sub(xT, leaves.b_dec_O!), leaves.W_enc_FD!, { transB: true }), leaves.b_enc_F!);
  const mask = new Float32Array(pre.size).map((_, i) => (pre.data[i]! > theta[i % 12]! ? 1 : 0));
  const acts = T.mul(pre, new Tensor(mask, pre.shape));
  const recon = T.add(T.matmul(acts, leaves.W_dec_FO!), leaves.b_dec_O!);
  const mse = T.scale(T.sum(T.square(T.sub(recon, xT))), 1 / B);
  let l0 = 0;
  for (const m of mask) l0 += m;
  assert.ok(Math.abs(mse.item() + (OPTS.l0Coefficient * l0) / B - ctx.totalLoss) < 1e-4, 'loss');
  T.backward(mse);
  const g = ctx.grads as unknown as Record<string, Float32Array>;
  for (const [name, leaf] of Object.entries(leaves)) assertClose(g[name]!, leaf.grad!.data, `jumprelu d${name}`);
  // Threshold: d/dtheta = sum_b [|z - t| < eps/2] * (-(t/eps) dL/da - lambda/(B eps)).
  const eps = OPTS.bandwidth;
  const dActs = new Float32Array(B * 12);
  {
    // dL/da of the mse, from the reference: d recon @ W_dec^T
    const dRecon = new Float32Array(B * 5).map((_, i) => (2 / B) * (recon.data[i]! - x[i]!));
    for (let b = 0; b < B; b++)
      for (let f = 0; f < 12; f++) {
        let s = 0;
        for (let j = 0; j < 5; j++) s += dRecon[b * 5 + j]! * sae.params.W_dec_FO.data[f * 5 + j]!;
        dActs[b * 12 + f] = s;
      }
  }
  const want = new Float32Array(12);
  for (let f = 0; f < 12; f++) {
    let s = 0;
    for (let b = 0; b < B; b++) {
      const z = pre.data[b * 12 + f]!;
      if (Math.abs(z - theta[f]!) < eps / 2) s += -(theta[f]! / eps) * dActs[b * 12 + f]! - OPTS.l0Coefficient / (B * eps);
    }
    want[f] = s;
  }
  assertClose(rule.extraParams[0]!.grad, want, 'jumprelu d threshold');
  assert.ok(want.some((v) => v !== 0), 'the test exercises the straight-through path');
});
