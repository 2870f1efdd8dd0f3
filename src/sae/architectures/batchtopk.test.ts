import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, topkIndices } from '../../tensor/index.js';
import { batchTopkSelect } from './batchtopk.js';

test('batchTopkSelect picks exactly what a full sort would, ties to the lower index', () => {
  const rng = new Rng(4);
  for (const [B, F, budget] of [[7, 13, 20], [5, 9, 45], [6, 11, 1], [4, 8, 32]] as const) {
    // Values on a coarse grid so there are many ties, some negative.
    const pre = new Float32Array(B * F).map(() => Math.round(rng.normal() * 4) / 4);
    const lat = batchTopkSelect(pre, B, F, budget);
    const want = [...topkIndices(pre, 1, B * F, budget)].sort((a, b) => a - b);
    const got: number[] = [];
    for (let b = 0; b < B; b++) for (let e = lat.rowPtr[b]!; e < lat.rowPtr[b + 1]!; e++) got.push(b * F + lat.idx[e]!);
    assert.deepEqual(got, want, `B ${B} F ${F} budget ${budget}`);
    for (let e = 0; e < budget; e++) assert.equal(lat.val[e], Math.max(0, pre[got[e]!]!));
  }
});
