// The arithmetic of each mode, checked against the dictionary's own encoder (float32, as the model sees
// it): clamp pins the encoder value, cap bounds it, ablate zeroes it, several at once, every architecture
// and input scaling; add moves the row by exactly strength x direction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { Rng, Tensor } from '../tensor/index.js';
import type { Sae } from '../sae/index.js';
import { featureDirection, readValue, vectorDirection } from './direction.js';
import { checkInterventions, steerRow, type Intervention } from './intervene.js';
import { tinySae } from './testing/fixtures.js';

function rows(n: number, d: number, seed: number, scale = 1.5): Float64Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Float64Array.from({ length: d }, () => scale * rng.normal()));
}

/** The encoder pre-activation of each feature at float32 rows, by the SAE itself. */
function encoderValues(sae: Sae, hs: Float64Array[], features: number[]): number[][] {
  const x = new Tensor(Float32Array.from(hs.flatMap((h) => [...h])), [hs.length, sae.dIn]);
  const pre = T.noGrad(() => sae.preActivations(x)).data;
  return hs.map((_, r) => features.map((f) => pre[r * sae.dSae + f]!));
}

const SAES: [string, () => Sae][] = [
  ['relu', () => tinySae({ architecture: 'relu' })],
  ['topk', () => tinySae({ architecture: 'topk' })],
  ['jumprelu', () => tinySae({ architecture: 'jumprelu' })],
  ['topk, scaled input', () => tinySae({ architecture: 'topk', normalizeActivations: 'expected_average_only_in', scalingFactor: 1.7, scalingFactorOut: 1.7 })],
];

for (const [name, make] of SAES) {
  test(`clamp, cap and ablate hit their values exactly (${name})`, () => {
    const sae = make();
    const f = [3, 11, 27];
    const dirs = f.map((i) => featureDirection(sae, i));
    const hs = rows(12, 16, 5);
    // The cap at the median of the feature's values, so it binds on some rows and not on others.
    const sorted = encoderValues(sae, hs, [27]).map((v) => v[0]!).sort((a, b) => a - b);
    const cap = Math.max(0.01, sorted[6]!);
    // Two clamps and a cap together: the joint solve keeps each one where it was put.
    const list: Intervention[] = [
      { direction: dirs[0]!, mode: 'clamp', amount: 2.5 },
      { direction: dirs[1]!, mode: 'clamp', amount: 0.75 },
      { direction: dirs[2]!, mode: 'cap', amount: cap },
    ];
    const before = encoderValues(sae, hs, f);
    const steered = hs.map((h) => {
      const c = h.slice();
      steerRow(c, list, 3);
      return c;
    });
    const after = encoderValues(sae, steered, f);
    after.forEach((v, r) => {
      assert.ok(Math.abs(v[0]! - 2.5) < 1e-4, `row ${r}: clamped to ${v[0]}`);
      assert.ok(Math.abs(v[1]! - 0.75) < 1e-4, `row ${r}: clamped to ${v[1]}`);
      assert.ok(v[2]! <= cap + 1e-4, `row ${r}: capped value ${v[2]}`);
      // readValue (the reported value) is the same number.
      assert.ok(Math.abs(readValue(dirs[0]!, steered[r]!) - 2.5) < 1e-6);
    });
    assert.ok(before.some((v) => v[2]! > cap), 'the cap binds somewhere');
    assert.ok(before.some((v) => v[2]! < cap), 'and is idle somewhere');

    // A cap alone leaves rows under it untouched.
    for (const h of hs) {
      const c = h.slice();
      steerRow(c, [{ direction: dirs[2]!, mode: 'cap', amount: cap }], 0);
      const [v] = encoderValues(sae, [h], [27])[0]!;
      if (v! < cap - 1e-5) assert.deepEqual(c, h);
      else assert.ok(Math.abs(encoderValues(sae, [c], [27])[0]![0]! - cap) < 1e-4);
    }

    // Ablation: value 0 where the feature was positive; negative pre-activations (latent already 0) stay.
    for (const h of hs) {
      const c = h.slice();
      steerRow(c, [{ direction: dirs[0]!, mode: 'ablate', amount: 0 }], 0);
      const v = encoderValues(sae, [c], [3])[0]![0]!;
      assert.ok(v <= 1e-4, `ablated value ${v}`);
      assert.equal(readValue(dirs[0]!, c) < 1e-5, true);
    }
  });
}

test('gated: a feature value is the magnitude path, the latent wherever the gate is open, and clamp pins it', () => {
  const sae = tinySae({ architecture: 'gated', normalizeActivations: 'expected_average_only_in', scalingFactor: 1.7, scalingFactorOut: 1.7 });
  const rng = new Rng(21);
  for (const t of [sae.params.r_mag_F!, sae.params.b_mag_F!]) for (let i = 0; i < t.size; i++) t.data[i] = 0.3 * rng.normal();
  const F = sae.dSae;
  const encode = (hs: Float64Array[]): { gate: Float32Array; latents: Float32Array } => {
    const x = new Tensor(Float32Array.from(hs.flatMap((h) => [...h])), [hs.length, sae.dIn]);
    return T.noGrad(() => ({ gate: sae.preActivations(x).data, latents: sae.encode(x).data }));
  };
  const hs = rows(40, 16, 6);
  for (const f of [2, 17, 33]) {
    const dir = featureDirection(sae, f);
    const { gate, latents } = encode(hs);
    let open = 0;
    hs.forEach((h, r) => {
      if (gate[r * F + f]! <= 0) return;
      open++;
      assert.ok(Math.abs(readValue(dir, h) - latents[r * F + f]!) < 1e-5, `feature ${f} row ${r}: value ${readValue(dir, h)}, latent ${latents[r * F + f]}`);
    });
    assert.ok(open >= 5, `feature ${f}: the gate is open on ${open} rows`);
    const steered = hs.map((h) => {
      const c = h.slice();
      steerRow(c, [{ direction: dir, mode: 'clamp', amount: 1.5 }], 0);
      return c;
    });
    const after = encode(steered);
    let pinned = 0;
    steered.forEach((c, r) => {
      assert.ok(Math.abs(readValue(dir, c) - 1.5) < 1e-6);
      if (after.gate[r * F + f]! > 0) {
        pinned++;
        assert.ok(Math.abs(after.latents[r * F + f]! - 1.5) < 1e-4, `feature ${f} row ${r}: latent ${after.latents[r * F + f]} after the clamp`);
      }
    });
    assert.ok(pinned >= 5, `feature ${f}: the gate is open after the clamp on ${pinned} rows`);
  }
});

test('add moves a row by exactly strength x W_dec[f]; vectors by strength x vector', () => {
  const sae = tinySae({ architecture: 'topk', normalizeActivations: 'expected_average_only_in', scalingFactor: 2, scalingFactorOut: 2 });
  const dir = featureDirection(sae, 9);
  const wdec = sae.decoderRow(9);
  const [h] = rows(1, 16, 2);
  const c = h!.slice();
  steerRow(c, [{ direction: dir, mode: 'add', amount: 3.5 }], 4);
  for (let j = 0; j < 16; j++) assert.ok(Math.abs(c[j]! - h![j]! - 3.5 * wdec[j]!) < 1e-12);
  const v = Float32Array.from({ length: 16 }, (_, j) => Math.sin(j));
  const c2 = h!.slice();
  steerRow(c2, [{ direction: vectorDirection('x', v), mode: 'add', amount: -2 }], 0);
  for (let j = 0; j < 16; j++) assert.ok(Math.abs(c2[j]! - h![j]! + 2 * v[j]!) < 1e-12);
  // A position-aligned vector adds row t at position t and nothing past its end.
  const aligned = vectorDirection('x', [v, v.map((x) => 2 * x)]);
  const c3 = h!.slice();
  steerRow(c3, [{ direction: aligned, mode: 'add', amount: 1 }], 1);
  for (let j = 0; j < 16; j++) assert.ok(Math.abs(c3[j]! - h![j]! - 2 * v[j]!) < 1e-6);
  const c4 = h!.slice();
  steerRow(c4, [{ direction: aligned, mode: 'add', amount: 1 }], 2);
  assert.deepEqual(c4, h);
});

test('vector clamp, cap and ablate act on the projection onto the unit direction', () => {
  const v = Float64Array.from({ length: 16 }, (_, j) => Math.cos(j) * 3);
  const dir = vectorDirection('x', v);
  const unit = v.map((x) => x / Math.hypot(...v));
  const proj = (h: Float64Array): number => h.reduce((s, x, j) => s + x * unit[j]!, 0);
  for (const h of rows(6, 16, 7)) {
    const c = h.slice();
    steerRow(c, [{ direction: dir, mode: 'clamp', amount: -1.25 }], 0);
    assert.ok(Math.abs(proj(c) + 1.25) < 1e-9);
    const a = h.slice();
    steerRow(a, [{ direction: dir, mode: 'ablate', amount: 0 }], 0);
    assert.ok(Math.abs(proj(a)) < 1e-9);
    // Ablation removes only the projection.
    for (let j = 0; j < 16; j++) assert.ok(Math.abs(a[j]! - (h[j]! - proj(h) * unit[j]!)) < 1e-9);
    const k = h.slice();
    steerRow(k, [{ direction: dir, mode: 'cap', amount: 0.1 }], 0);
    assert.ok(proj(k) <= 0.1 + 1e-9);
  }
});

test('bad input: a feature outside the dictionary, a negative clamp, the same feature pinned twice', () => {
  const sae = tinySae({ architecture: 'relu' });
  assert.throws(() => featureDirection(sae, 40), /feature 40 is outside the dictionary: it has 40 features \(0-39\)/);
  assert.throws(() => featureDirection(sae, -1), /outside the dictionary/);
  const d = featureDirection(sae, 1);
  assert.throws(() => steerRowChecked([{ direction: d, mode: 'clamp', amount: -1 }]), /never negative.*--mode ablate/);
  assert.throws(() => steerRowChecked([{ direction: d, mode: 'clamp', amount: 1 }, { direction: featureDirection(sae, 1), mode: 'cap', amount: 1 }]), /given twice/);
});

function steerRowChecked(list: Intervention[]): void {
  checkInterventions(list);
}
