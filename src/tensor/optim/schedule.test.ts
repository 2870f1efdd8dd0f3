import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learningRate } from './schedule.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

test('warmup rises linearly to the peak, reaching it on the last warmup step', () => {
  const o = { lr: 1, totalSteps: 100, warmupSteps: 10 };
  close(learningRate(0, o), 0.1, 'step 0');
  close(learningRate(4, o), 0.5, 'step 4');
  close(learningRate(9, o), 1, 'last warmup step');
  close(learningRate(10, o), 1, 'first decay step');
});

test('cosine and linear decay hit the peak, the midpoint and the floor at their boundaries', () => {
  for (const decay of ['cosine', 'linear'] as const) {
    const o = { lr: 2, totalSteps: 110, warmupSteps: 10, decay, minLrRatio: 0.1 };
    close(learningRate(10, o), 2, `${decay} start`);
    close(learningRate(60, o), 0.2 + 1.8 * 0.5, `${decay} midpoint`);
    close(learningRate(110, o), 0.2, `${decay} end`);
    close(learningRate(500, o), 0.2, `${decay} after the end`);
  }
  // cosine quarter point: 0.5 * (1 + cos(pi/4))
  close(learningRate(25, { lr: 1, totalSteps: 100, minLrRatio: 0 }), 0.5 * (1 + Math.cos(Math.PI / 4)), 'cosine quarter');
  close(learningRate(25, { lr: 1, totalSteps: 100, decay: 'linear', minLrRatio: 0 }), 0.75, 'linear quarter');
});

test('defaults: cosine, floor 0.1 of the peak, no warmup; constant stays at the peak after warmup', () => {
  close(learningRate(0, { lr: 3, totalSteps: 10 }), 3, 'no warmup starts at the peak');
  close(learningRate(10, { lr: 3, totalSteps: 10 }), 0.3, 'default floor');
  const c = { lr: 0.5, totalSteps: 100, warmupSteps: 4, decay: 'constant' as const };
  close(learningRate(0, c), 0.125, 'constant warmup');
  close(learningRate(4, c), 0.5, 'constant');
  close(learningRate(1000, c), 0.5, 'constant late');
  // Degenerate: warmup as long as training.
  close(learningRate(10, { lr: 1, totalSteps: 10, warmupSteps: 10 }), 1, 'warmup = total');
  assert.ok(Number.isFinite(learningRate(11, { lr: 1, totalSteps: 10, warmupSteps: 10 })));
});
