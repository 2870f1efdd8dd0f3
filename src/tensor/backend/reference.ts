// Pure TypeScript kernels: the reference that native kernels are tested against, and the fallback where
// the native module cannot load. Written for clarity first, with loop orders that keep inner loops
// contiguous so it is not needlessly slow.
import type { KernelBackend, MatmulSpec } from './backend.js';

export class ReferenceBackend implements KernelBackend {
  readonly name = 'reference';

  matmul(a: Float32Array, b: Float32Array, out: Float32Array, s: MatmulSpec): void {
    const { batch, m, k, n, transA, transB } = s;
    const aStride = s.aBatched ? m * k : 0;
    const bStride = s.bBatched ? k * n : 0;
    const acc = new Float64Array(n); // accumulate one output row in float64: this is the reference
    for (let bi = 0; bi < batch; bi++) {
      const ao = bi * aStride;
      const bo = bi * bStride;
      const oo = bi * m * n;
      for (let i = 0; i < m; i++) {
        acc.fill(0);
        for (let p = 0; p < k; p++) {
          const av = transA ? a[ao + p * m + i] : a[ao + i * k + p];
          if (transB) {
            for (let j = 0; j < n; j++) acc[j] += av * b[bo + j * k + p];
          } else {
            const row = bo + p * n;
            for (let j = 0; j < n; j++) acc[j] += av * b[row + j];
          }
        }
        for (let j = 0; j < n; j++) out[oo + i * n + j] = acc[j];
      }
    }
  }
}
