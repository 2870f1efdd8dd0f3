import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadNativeBackend } from '../tensor/backend/native/native-backend.js';
import { benchMatmul, type MatmulBackendName } from './matmul.js';

test('benchMatmul reports a consistent GFLOP/s for each backend', () => {
  const backends: MatmulBackendName[] = ['reference', 'ts-fast'];
  if (loadNativeBackend()) backends.push('native'); // its own tests fail loudly where it should load
  for (const backend of backends) {
    const r = benchMatmul({ m: 8, k: 16, n: 12, batch: 2, iters: 5, warmup: 1, backend });
    assert.equal(r.backend, backend);
    assert.equal(r.iters, 5);
    assert.ok(r.ms_median > 0, `${backend}: ms_median ${r.ms_median}`);
    assert.ok(Math.abs(r.gflops - (2 * 2 * 8 * 16 * 12) / (r.ms_median * 1e6)) < 1e-9 * r.gflops);
    assert.ok(r.threads >= 1);
  }
});

test('benchMatmul picks enough iterations for about a second when iters is not given', () => {
  const r = benchMatmul({ m: 4, k: 4, n: 4, backend: 'ts-fast', warmup: 2 });
  assert.ok(r.iters >= 10 && r.iters <= 10_000, `iters ${r.iters}`);
});
