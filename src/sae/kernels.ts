// The loops of SAE training and inference on raw row-major float32 buffers. Matrix products go to the
// kernel backend; everything here is the per-latent work the backend has no op for: selecting the top
// latents of each row, and the sparse decode and its backward, which touch only the active latents
// (k of d_sae per token) and so cost O(B k d) instead of O(B d_sae d).
//
// Shapes: B rows (tokens), D input width, O output width, F latents. W_enc_FD and W_dec_FO both hold one
// row per latent, so every sparse access reads or writes a contiguous row.

/** Latents in compressed-row form: row b owns entries rowPtr[b] .. rowPtr[b+1] of idx/val. */
export interface SparseLatents {
  rows: number;
  rowPtr: Int32Array;
  idx: Int32Array;
  val: Float32Array;
}

/** Compressed rows with room for `capacity` entries, in shared memory (parallel kernels can use them). */
export function emptySparse(rows: number, capacity: number): SparseLatents {
  return { rows, rowPtr: sharedInt32(rows + 1), idx: sharedInt32(capacity), val: sharedFloat32(capacity) };
}

/** A Float32Array on a SharedArrayBuffer: worker threads see the same memory (see parallel.ts). */
export function sharedFloat32(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(4 * n));
}

export function sharedInt32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * n));
}

/** out_BD = x_BD - v_D (row-broadcast). */
export function subRowVector(x: Float32Array, v: Float32Array, out: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) out[o + j] = x[o + j]! - v[j]!;
  }
}

/** m_BN += v_N in place. */
export function addRowVector(m: Float32Array, v: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) m[o + j] = m[o + j]! + v[j]!;
  }
}

/** Column sums of m_BN accumulated into acc_N. */
export function addColumnSums(m: Float32Array, acc: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) acc[j] = acc[j]! + m[o + j]!;
  }
}

/**
 * Per row of pre_RF (+ bias_F), the k largest entries, descending, ties to the lower index; writes the
 * latent indices and relu(value) into idx/val starting at `at`. `candidates`, when given, restricts the
 * search to those latent indices (AuxK's dead latents). NaN ranks first so a diverged run shows up in the
 * loss instead of being silently skipped. One size-k min-heap per row; the scan is one add and one
 * compare per entry against the heap's minimum (this loop is the main cost of a TopK step after the GEMM).
 */
export function topkRows(
  pre: Float32Array, bias: Float32Array | null, rows: number, F: number, k: number,
  idx: Int32Array, val: Float32Array, at: number, candidates: Int32Array | null = null,
): void {
  const heap: Heap = { v: new Float64Array(k), i: new Int32Array(k), size: 0, k };
  const zero = bias ?? new Float32Array(F);
  for (let r = 0; r < rows; r++) {
    const base = r * F;
    heap.size = 0;
    if (candidates) {
      let thr = -Infinity;
      for (let c = 0; c < candidates.length; c++) {
        const j = candidates[c]!;
        const v = pre[base + j]! + zero[j]!;
        if (v <= thr) continue; // an equal value comes later, so it has the larger index: it loses the tie
        thr = heapOffer(heap, v, j);
      }
    } else {
      let thr = -Infinity;
      for (let j = 0; j < F; j++) {
        const v = pre[base + j]! + zero[j]!;
        if (v <= thr) continue;
        thr = heapOffer(heap, v, j);
      }
    }
    heapToSorted(heap, idx, val, at + r * k);
    // Selection ran on raw values (NaN as +inf); store relu(value), NaN kept.
    for (let a = 0; a < heap.size; a++) {
      const raw = val[at + r * k + a]!;
      if (!(raw > 0) && raw === raw) val[at + r * k + a] = 0;
    }
    for (let a = heap.size; a < k; a++) {
      idx[at + r * k + a] = 0;
      val[at + r * k + a] = 0;
    }
  }
}

interface Heap {
  v: Float64Array;
  i: Int32Array;
  size: number;
  k: number;
}

/** Offer (v, j) to a min-heap of the k largest; returns the new admission threshold. */
function heapOffer(h: Heap, value: number, j: number): number {
  const hv = h.v;
  const hi = h.i;
  const k = h.k;
  const v = value !== value ? Infinity : value;
  if (h.size < k) {
    let p = h.size++;
    while (p > 0) {
      const parent = (p - 1) >> 1;
      if (!(v < hv[parent]! || (v === hv[parent] && j > hi[parent]!))) break;
      hv[p] = hv[parent]!;
      hi[p] = hi[parent]!;
      p = parent;
    }
    hv[p] = v;
    hi[p] = j;
    // NaN entries are stored as +inf, so the threshold stays a number.
    return h.size === k ? hv[0]! : -Infinity;
  }
  let p = 0;
  for (;;) {
    const l = 2 * p + 1;
    if (l >= k) break;
    const q = l + 1;
    let ch = l;
    if (q < k && (hv[q]! < hv[l]! || (hv[q] === hv[l] && hi[q]! > hi[l]!))) ch = q;
    if (!(hv[ch]! < v || (hv[ch] === v && hi[ch]! > j))) break;
    hv[p] = hv[ch]!;
    hi[p] = hi[ch]!;
    p = ch;
  }
  hv[p] = v;
  hi[p] = j;
  return hv[0]!;
}

/** Heap contents -> idx/val at `o`, by decreasing value (ties: lower index first). +inf (NaN) stays NaN. */
function heapToSorted(h: Heap, idx: Int32Array, val: Float32Array, o: number): void {
  const n = h.size;
  for (let a = 0; a < n; a++) {
    const v = h.v[a]!;
    const j = h.i[a]!;
    let b = a;
    while (b > 0 && (val[o + b - 1]! < v || (val[o + b - 1] === v && idx[o + b - 1]! > j))) {
      val[o + b] = val[o + b - 1]!;
      idx[o + b] = idx[o + b - 1]!;
      b--;
    }
    val[o + b] = v;
    idx[o + b] = j;
  }
  for (let a = 0; a < n; a++) if (val[o + a] === Infinity) val[o + a] = NaN;
}

// The three sparse loops below are unrolled by four: V8 does not vectorise, and the unrolled form runs
// about twice as fast on the rows of 64-768 floats SAEs use.

/** out_BO = sparse latents @ W_FO (+ bias_O), rows r0..r1: only the active rows of W are read. */
export function sparseDecode(lat: SparseLatents, W: Float32Array, bias: Float32Array | null, out: Float32Array, O: number, r0 = 0, r1 = lat.rows): void {
  const { rowPtr, idx, val } = lat;
  const O4 = O - (O % 4);
  for (let b = r0; b < r1; b++) {
    const o = b * O;
    if (bias) out.set(bias, o);
    else out.fill(0, o, o + O);
    for (let e = rowPtr[b]!; e < rowPtr[b + 1]!; e++) {
      const a = val[e]!;
      if (a === 0) continue;
      const w = idx[e]! * O;
      let j = 0;
      for (; j < O4; j += 4) {
        out[o + j] += a * W[w + j]!;
        out[o + j + 1] += a * W[w + j + 1]!;
        out[o + j + 2] += a * W[w + j + 2]!;
        out[o + j + 3] += a * W[w + j + 3]!;
      }
      for (; j < O; j++) out[o + j] += a * W[w + j]!;
    }
  }
}

/** dVal[e] = dOut_b . W[f] for the entries of rows r0..r1 (the latent side of sparseDecode's backward). */
export function sparseRowDots(lat: SparseLatents, W: Float32Array, dOut: Float32Array, dVal: Float32Array, O: number, r0 = 0, r1 = lat.rows): void {
  const { rowPtr, idx } = lat;
  const O4 = O - (O % 4);
  for (let b = r0; b < r1; b++) {
    const o = b * O;
    for (let e = rowPtr[b]!; e < rowPtr[b + 1]!; e++) {
      const w = idx[e]! * O;
      let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
      let j = 0;
      for (; j < O4; j += 4) {
        d0 += dOut[o + j]! * W[w + j]!;
        d1 += dOut[o + j + 1]! * W[w + j + 1]!;
        d2 += dOut[o + j + 2]! * W[w + j + 2]!;
        d3 += dOut[o + j + 3]! * W[w + j + 3]!;
      }
      for (; j < O; j++) d0 += dOut[o + j]! * W[w + j]!;
      dVal[e] = d0 + d1 + d2 + d3;
    }
  }
}

/**
 * dW[f] += coef[e] * src_b (and db[f] += coef[e]) for every entry (b, f) with latent f in f0..f1: the
 * weight side of a sparse product's backward (decoder: coef = latent value, src = d output; encoder:
 * coef = d pre-activation, src = input). Entries are visited in order, so splitting the latent range
 * across threads gives bit-identical sums.
 */
export function sparseScatter(lat: SparseLatents, coef: Float32Array, src: Float32Array, N: number, dW: Float32Array, db: Float32Array | null, f0 = 0, f1 = Infinity): void {
  const { rows, rowPtr, idx } = lat;
  const N4 = N - (N % 4);
  for (let b = 0; b < rows; b++) {
    const o = b * N;
    for (let e = rowPtr[b]!; e < rowPtr[b + 1]!; e++) {
      const f = idx[e]!;
      if (f < f0 || f >= f1) continue;
      const g = coef[e]!;
      if (g === 0) continue;
      if (db) db[f] += g;
      const w = f * N;
      let j = 0;
      for (; j < N4; j += 4) {
        dW[w + j] += g * src[o + j]!;
        dW[w + j + 1] += g * src[o + j + 1]!;
        dW[w + j + 2] += g * src[o + j + 2]!;
        dW[w + j + 3] += g * src[o + j + 3]!;
      }
      for (; j < N; j++) dW[w + j] += g * src[o + j]!;
    }
  }
}

/** Backward of sparseDecode: dVal[e] = dOut_b . W[f] and dW[f] += val[e] * dOut_b (single thread). */
export function sparseDecodeBackward(lat: SparseLatents, W: Float32Array, dOut: Float32Array, dVal: Float32Array, dW: Float32Array | null, O: number): void {
  sparseRowDots(lat, W, dOut, dVal, O);
  if (dW) sparseScatter(lat, lat.val, dOut, O, dW, null);
}

/** Backward of pre[b, f] = xin_b . W_enc[f] + b_enc[f] at the active entries only (single thread). */
export function sparseEncodeBackward(lat: SparseLatents, dPre: Float32Array, xin: Float32Array, dW: Float32Array, db: Float32Array, D: number): void {
  sparseScatter(lat, dPre, xin, D, dW, db);
}

/**
 * With xin = x - b_dec, d loss / d b_dec through the encoder is -sum_{b,f} dPre[b,f] W_enc[f]
 * = -(sum_b dPre[b, :]) @ W_enc: one pass over the latents whose summed gradient is non-zero.
 */
export function inputBiasGradient(dPreSum_F: Float32Array, W_enc_FD: Float32Array, db_dec: Float32Array, F: number, D: number): void {
  for (let f = 0; f < F; f++) {
    const g = dPreSum_F[f]!;
    if (g === 0) continue;
    const w = f * D;
    for (let j = 0; j < D; j++) db_dec[j] = db_dec[j]! - g * W_enc_FD[w + j]!;
  }
}

/** Euclidean norm of each row of W_FN into out_F. */
export function rowNorms(W: Float32Array, F: number, N: number, out: Float32Array): Float32Array {
  for (let f = 0; f < F; f++) {
    let s = 0;
    const o = f * N;
    for (let j = 0; j < N; j++) s += W[o + j]! * W[o + j]!;
    out[f] = Math.sqrt(s);
  }
  return out;
}

/** Scale each row of W_FN to unit norm (rows of norm 0 are left alone). */
export function normalizeRows(W: Float32Array, F: number, N: number): void {
  for (let f = 0; f < F; f++) {
    let s = 0;
    const o = f * N;
    for (let j = 0; j < N; j++) s += W[o + j]! * W[o + j]!;
    if (s === 0) continue;
    const c = 1 / Math.sqrt(s);
    for (let j = 0; j < N; j++) W[o + j] = W[o + j]! * c;
  }
}

/**
 * Remove from each gradient row its component along the (unit-norm) weight row: with a unit-norm
 * constraint, moving along the row only changes its length, which the renormalisation undoes.
 */
export function removeParallelComponent(W: Float32Array, dW: Float32Array, F: number, N: number): void {
  for (let f = 0; f < F; f++) {
    const o = f * N;
    let dot = 0;
    let ww = 0;
    for (let j = 0; j < N; j++) {
      dot += dW[o + j]! * W[o + j]!;
      ww += W[o + j]! * W[o + j]!;
    }
    if (ww === 0 || dot === 0) continue;
    const c = dot / ww;
    for (let j = 0; j < N; j++) dW[o + j] = dW[o + j]! - c * W[o + j]!;
  }
}

/** Compressed rows of relu(top-k) of each row of pre_NF (+ bias_F), zeros dropped, descending value per row. */
export function topkSparse(pre_NF: Float32Array, bias_F: Float32Array | null, n: number, F: number, k: number): SparseLatents {
  const idx = new Int32Array(n * k);
  const val = new Float32Array(n * k);
  topkRows(pre_NF, bias_F, n, F, k, idx, val, 0);
  const rowPtr = new Int32Array(n + 1);
  let e = 0;
  for (let r = 0; r < n; r++) {
    rowPtr[r] = e;
    for (let j = r * k; j < (r + 1) * k; j++) {
      if (val[j]! > 0) {
        idx[e] = idx[j]!;
        val[e++] = val[j]!;
      }
    }
  }
  rowPtr[n] = e;
  return { rows: n, rowPtr, idx: idx.subarray(0, e), val: val.subarray(0, e) };
}

/** Dense latents -> compressed rows (entries != 0), for sparse decoding of ReLU-family outputs. */
export function denseToSparse(acts: Float32Array, rows: number, F: number): SparseLatents {
  let nnz = 0;
  for (let i = 0; i < acts.length; i++) if (acts[i] !== 0) nnz++;
  const lat = emptySparse(rows, nnz);
  let e = 0;
  for (let r = 0; r < rows; r++) {
    lat.rowPtr[r] = e;
    const o = r * F;
    for (let f = 0; f < F; f++) {
      const v = acts[o + f]!;
      if (v !== 0) {
        lat.idx[e] = f;
        lat.val[e++] = v;
      }
    }
  }
  lat.rowPtr[rows] = e;
  return lat;
}

/** Compressed rows -> dense [rows, F]. */
export function sparseToDense(lat: SparseLatents, F: number, out = new Float32Array(lat.rows * F)): Float32Array {
  out.fill(0);
  for (let r = 0; r < lat.rows; r++) for (let e = lat.rowPtr[r]!; e < lat.rowPtr[r + 1]!; e++) out[r * F + lat.idx[e]!] = lat.val[e]!;
  return out;
}

/** Compressed rows of the entries of pre_NF above a per-latent threshold (0 for ReLU): thresholded activations. */
export function thresholdSparse(pre: Float32Array, n: number, F: number, threshold: Float32Array | null): SparseLatents {
  let nnz = 0;
  for (let r = 0; r < n; r++) for (let f = 0; f < F; f++) if (pre[r * F + f]! > (threshold ? threshold[f]! : 0)) nnz++;
  const lat = emptySparse(n, nnz);
  let e = 0;
  for (let r = 0; r < n; r++) {
    lat.rowPtr[r] = e;
    for (let f = 0; f < F; f++) {
      const v = pre[r * F + f]!;
      if (v > (threshold ? threshold[f]! : 0)) {
        lat.idx[e] = f;
        lat.val[e++] = v;
      }
    }
  }
  lat.rowPtr[n] = e;
  return lat;
}
