import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ForwardHook } from '../model/index.js';
import { randomIds } from '../model/testing/fixtures.js';
import { smallModel } from '../model/testing/models.js';
import * as T from '../tensor/index.js';
import { Tensor } from '../tensor/index.js';
import { NodeIndex } from './node-index.js';
import { freezeHooks, prepareReplacement } from './replacement.js';
import { RowComputer } from './rows.js';
import { randomTranscoderSet } from './testing.js';
import { outputHook } from './transcoder-set.js';

// Every edge of a row, against autodiff through the real model with the patterns and norm denominators
// frozen by forward hooks and each MLP output replaced by a constant (plus the live skip term).
for (const [name, skip] of [['llama-gqa', true], ['gpt2', true], ['llama-interleaved', false]] as const) {
  test(`rows equal autodiff through the frozen model (${name}, skip ${skip})`, () => {
    const model = smallModel(name);
    const c = model.config;
    const D = c.dModel;
    const set = randomTranscoderSet(model, { kind: 'per-layer', skip, F: 10, k: 3 });
    const ids = randomIds(9, c.vocabSize, 2);
    const st = prepareReplacement(model, set, ids);
    const idx = new NodeIndex(st.latents, st.T, 0);
    const rc = new RowComputer(st, idx, []);
    const L = c.nLayers - 1;
    const targets = Int32Array.from([idx.featStart[L]![5]!, idx.featStart[L]![7]!]); // first feature at positions 5 and 7
    const batch = rc.compute(L, targets, 8);

    targets.forEach((t, s) => {
      const pos = idx.featPos[t]!;
      const f = idx.featLatent[t]!;
      const inputs: Tensor[] = [];
      const hooks: ForwardHook[] = [...freezeHooks(model, st, st.T)];
      for (let l = 0; l < c.nLayers; l++) {
        hooks.push({ name: set.inputHook(l), fn: (x) => void (inputs[l] = x) });
        hooks.push({
          name: outputHook(l),
          fn: () => {
            const constant = new Tensor(st.mlpOut[l]!.slice(), [1, st.T, D]);
            const W = set.skip[l];
            return W ? T.add(constant, T.matmul(inputs[l]!, new Tensor(W, [D, D]))) : constant;
          },
        });
      }
      const names = [...Array.from({ length: c.nLayers }, (_, l) => outputHook(l)), 'blocks.0.hook_resid_pre'];
      const grads = T.enableGrad(() => {
        const r = model.run([ids], { hooks, capture: [...names, set.inputHook(L)], withGrad: true });
        const seed = new Float32Array(st.T * D);
        seed.set(set.layers[L]!.W_enc_FD.subarray(f * D, (f + 1) * D), pos * D);
        return T.grad([r.captured.get(set.inputHook(L))!], names.map((n) => r.captured.get(n)!), [seed]);
      });
      const dot = (a: Float32Array, ao: number, g: Float32Array, go: number): number => {
        let x = 0;
        for (let j = 0; j < D; j++) x += a[ao + j]! * g[go + j]!;
        return x;
      };
      const row = (global: number): number => {
        for (const r of batch.ranges) if (global >= r.global && global < r.global + r.length) return batch.rows[s * batch.nLocal + r.local + global - r.global]!;
        return 0;
      };
      let checked = 0;
      for (let l = 0; l < L; l++) {
        for (let p = 0; p < 8; p++) {
          const want = dot(st.errors[l]!, p * D, grads[l]!, p * D);
          assert.ok(Math.abs(row(idx.errorIndex(l, p)) - want) < 1e-5 * (1 + Math.abs(want)), `error node (${l}, ${p}): ${row(idx.errorIndex(l, p))} vs ${want}`);
          const lat = st.latents[l]!;
          for (let e = lat.rowPtr[p]!; e < lat.rowPtr[p + 1]!; e++) {
            const dec = set.decoder(l, l)!;
            const wantF = lat.val[e]! * dot(dec, lat.idx[e]! * D, grads[l]!, p * D);
            const got = row(idx.featStart[l]![0]! + e);
            assert.ok(Math.abs(got - wantF) < 1e-5 * (1 + Math.abs(wantF)), `feature (${l}, ${p}, ${lat.idx[e]}): ${got} vs ${wantF}`);
            checked++;
          }
        }
      }
      for (let p = 0; p < 8; p++) {
        const want = dot(st.embed, p * D, grads[c.nLayers]!, p * D);
        assert.ok(Math.abs(row(idx.tokenIndex(p)) - want) < 1e-5 * (1 + Math.abs(want)), `token ${p}: ${row(idx.tokenIndex(p))} vs ${want}`);
        if (p > pos) assert.equal(row(idx.tokenIndex(p)), 0, 'a later position contributes nothing');
      }
      assert.ok(checked > 0);
    });
  });
}
