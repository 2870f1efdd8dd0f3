// Influence, pruning thresholds and graph scores, as circuit-tracer defines them (graph.py, graph_scoring):
//   Â = |A| with each row divided by its sum (A[target, source]);
//   influence = w (Â + Â² + Â³ + ...), w = the logit probabilities on logit rows, 0 elsewhere;
//   keep the nodes that carry `threshold` of the total influence (sorted, cumulative);
//   edge score = Â[t, s] * (influence[t] + w[t]) on the node-pruned graph;
//   replacement score = token influence / (token + error influence);
//   completeness = sum_n (1 - error share of row n) (influence[n] + w[n]) / sum_n (influence[n] + w[n]).
// The graph is a DAG (sources sit in lower layers than their targets), so the series can be summed in one
// pass over rows from the logits down: when a layer's rows are reached, every node above it is final. The
// attribution driver does that (attribute.ts); the dense forms here are the reference its tests compare to.

/** The score s such that the scores >= s carry `fraction` of the total (circuit-tracer's find_threshold). */
export function findThreshold(scores: Float32Array | Float64Array, fraction: number): number {
  if (scores.length === 0) return 0;
  const sorted = Float64Array.from(scores).sort().reverse();
  let total = 0;
  for (const v of sorted) total += v;
  if (!(total > 0)) return sorted[sorted.length - 1]!;
  let acc = 0;
  for (let i = 0; i < sorted.length; i++) {
    acc += sorted[i]!;
    if (acc / total >= fraction) return sorted[i]!;
  }
  return sorted[sorted.length - 1]!;
}

/** Cumulative share of the total at each node's rank (circuit-tracer's per-node "influence" in graph JSON). */
export function cumulativeShares(scores: Float64Array): Float64Array {
  const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b);
  let total = 0;
  for (const v of scores) total += v;
  const out = new Float64Array(scores.length);
  let acc = 0;
  for (const i of order) {
    acc += scores[i]!;
    out[i] = total > 0 ? acc / total : 1;
  }
  return out;
}

// ---- dense reference (tests) ----

/** Â of a dense [n, n] matrix (row = target). */
export function normalizeDense(A: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let t = 0; t < n; t++) {
    let z = 0;
    for (let s = 0; s < n; s++) z += Math.abs(A[t * n + s]!);
    const c = 1 / Math.max(z, 1e-10);
    for (let s = 0; s < n; s++) out[t * n + s] = Math.abs(A[t * n + s]!) * c;
  }
  return out;
}

/** w (Â + Â² + ...) by repeated products, as circuit-tracer's compute_influence. */
export function influenceDense(Ahat: Float64Array, n: number, w: Float64Array, maxIter = 1000): Float64Array {
  let cur = vecMat(w, Ahat, n);
  const total = cur.slice();
  for (let it = 0; it < maxIter && cur.some((v) => v !== 0); it++) {
    cur = vecMat(cur, Ahat, n);
    for (let i = 0; i < n; i++) total[i] += cur[i]!;
  }
  return total;
}

function vecMat(v: Float64Array, M: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const c = v[t]!;
    if (c === 0) continue;
    for (let s = 0; s < n; s++) out[s] += c * M[t * n + s]!;
  }
  return out;
}

/** Replacement and completeness scores of a dense graph; `isError` / `isToken` flag node kinds. */
export function graphScoresDense(A: Float64Array, n: number, w: Float64Array, isError: (i: number) => boolean, isToken: (i: number) => boolean): { replacement: number; completeness: number } {
  const Ahat = normalizeDense(A, n);
  const inf = influenceDense(Ahat, n, w);
  let tok = 0;
  let err = 0;
  for (let i = 0; i < n; i++) {
    if (isToken(i)) tok += inf[i]!;
    if (isError(i)) err += inf[i]!;
  }
  let num = 0;
  let den = 0;
  for (let t = 0; t < n; t++) {
    let e = 0;
    for (let s = 0; s < n; s++) if (isError(s)) e += Ahat[t * n + s]!;
    const out = inf[t]! + w[t]!;
    num += (1 - e) * out;
    den += out;
  }
  return { replacement: tok / (tok + err), completeness: num / den };
}
