// Chooses the ONNX graph and the tensor dims that compute one MatmulSpec natively.
// Graphs have symbolic dims, so one cached session serves every size with the same plan key.
//
// Choices (measured on 2 cores, see docs/benchmarks.md):
// - no transpose: MatMul (MLAS SGEMM; batched operands go through its batched GEMM);
// - any transpose: com.microsoft FusedMatMul, whose transA/transB reach MLAS as flags (no transpose
//   copy); it matched or beat Gemm's transA/transB within noise, and unlike Gemm it takes batches;
// - a batched A times a shared B without transA is one product [1, batch*m, k] @ [1, k, n]: one big
//   GEMM beats `batch` small ones;
// - a shared A and a shared B give the same [m, n] for every batch entry: compute it once, copy it.
import type { MatmulSpec } from '../backend.js';
import type { OnnxGraphSpec } from './onnx-graph.js';

export interface MatmulPlan {
  /** Cache key of the session that runs this plan: the graph without its sizes. */
  key: string;
  graph: () => OnnxGraphSpec;
  aDims: number[];
  bDims: number[];
  yDims: number[];
  /** Number of [m, n] copies of the computed result to write (shared A and B, batch > 1). */
  replicate: number;
}

export function planMatmul(s: MatmulSpec): MatmulPlan {
  const { batch, m, k, n, transA, transB } = s;
  const a2 = transA ? [k, m] : [m, k];
  const b2 = transB ? [n, k] : [k, n];

  // Every operand is rank 3 (a leading 1 broadcasts), so the session depends only on the transpose
  // flags: at most four sessions, and fewer thread pools taking turns on the cores.
  let aDims: number[];
  let bDims: number[];
  let yDims: number[];
  let replicate = 1;
  if (batch === 1 || (!s.aBatched && !s.bBatched)) {
    aDims = [1, ...a2];
    bDims = [1, ...b2];
    yDims = [1, m, n];
    replicate = batch;
  } else if (s.aBatched && !s.bBatched && !transA) {
    aDims = [1, batch * m, k];
    bDims = [1, ...b2];
    yDims = [1, batch * m, n];
  } else {
    aDims = [s.aBatched ? batch : 1, ...a2];
    bDims = [s.bBatched ? batch : 1, ...b2];
    yDims = [batch, m, n];
  }

  const op = transA || transB ? 'FusedMatMul' : 'MatMul';
  const key = `${op}:tA${+transA}:tB${+transB}`;
  return { key, graph: () => matmulGraph(op, transA, transB), aDims, bDims, yDims, replicate };
}

function matmulGraph(op: 'MatMul' | 'FusedMatMul', transA: boolean, transB: boolean): OnnxGraphSpec {
  // Distinct symbolic names per dim: the runtime checks the real shapes, we only fix the ranks.
  const sym = (prefix: string): string[] => [`${prefix}0`, `${prefix}1`, `${prefix}2`];
  const opsets = [{ domain: '', version: 17 }];
  if (op === 'FusedMatMul') opsets.push({ domain: 'com.microsoft', version: 1 });
  return {
    name: `loupe_${op}`,
    nodes: [
      op === 'MatMul'
        ? { opType: 'MatMul', inputs: ['A', 'B'], outputs: ['Y'] }
        : {
            opType: 'FusedMatMul',
            domain: 'com.microsoft',
            inputs: ['A', 'B'],
            outputs: ['Y'],
            attributes: {
              transA: { kind: 'int', value: transA ? 1 : 0 },
              transB: { kind: 'int', value: transB ? 1 : 0 },
              alpha: { kind: 'float', value: 1 },
            },
          },
    ],
    inputs: [
      { name: 'A', dims: sym('a') },
      { name: 'B', dims: sym('b') },
    ],
    outputs: [{ name: 'Y', dims: sym('y') }],
    opsets,
  };
}

/**
 * A linear layer's graph: Y = act(A[m, k] @ W[n, k]^T + bias[n]). Gemm takes the transposed W and the
 * bias as flags and a broadcast C (MLAS writes C then accumulates the product); GPT-2's GELU is ORT's
 * com.microsoft FastGelu (tanh form), vectorised across the intra-op threads.
 */
export function linearGraph(bias: boolean, activation: 'none' | 'gelu_tanh'): { key: string; graph: () => OnnxGraphSpec } {
  const key = `Linear:bias${+bias}:${activation}`;
  const graph = (): OnnxGraphSpec => {
    const gemmOut = activation === 'none' ? 'Y' : 'P';
    const nodes: OnnxGraphSpec['nodes'][number][] = [
      { opType: 'Gemm', inputs: bias ? ['A', 'W', 'C'] : ['A', 'W'], outputs: [gemmOut], attributes: { transB: { kind: 'int', value: 1 } } },
    ];
    const opsets = [{ domain: '', version: 17 }];
    if (activation === 'gelu_tanh') {
      nodes.push({ opType: 'FastGelu', domain: 'com.microsoft', inputs: ['P'], outputs: ['Y'] });
      opsets.push({ domain: 'com.microsoft', version: 1 });
    }
    return {
      name: `loupe_linear_${activation}`,
      nodes,
      inputs: [{ name: 'A', dims: ['m', 'k'] }, { name: 'W', dims: ['n', 'k'] }, ...(bias ? [{ name: 'C', dims: ['n'] }] : [])],
      outputs: [{ name: 'Y', dims: ['m', 'n'] }],
      opsets,
    };
  };
  return { key, graph };
}
