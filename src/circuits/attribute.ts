// attribute(): an attribution graph for one prompt.
//   1. prepareReplacement: the clean run, the nodes, the frozen model and every node's constant term.
//   2. Pass 1, over every row (logits, then features from the top layer down): exact node influence (the
//      DAG order makes one pass enough, see influence.ts), replacement and completeness scores, and the
//      exactness of every row (sum of edges + bias + constant against the directly computed value).
//      Rows are dropped as soon as they are used, so memory stays at one batch of rows.
//   3. Node pruning at `nodeThreshold` of the cumulative influence (tokens and logits always kept).
//   4. Pass 2, over the kept rows only: the node-pruned graph's influence and edge scores, with the edges
//      between kept nodes stored sparsely (target, source, weight); edge pruning at `edgeThreshold`, then
//      circuit-tracer's clean-up (kept features and errors need an outgoing edge, features an incoming one).
// With prune: false every node and every non-zero edge is kept (the exactness check reads such graphs).
import { InputError } from '../errors.js';
import type { Transformer } from '../model/index.js';
import { cumulativeShares, findThreshold } from './influence.js';
import { NodeIndex } from './node-index.js';
import { prepareReplacement, type ReplacementState } from './replacement.js';
import { RowComputer, targetBatches, type RowBatch } from './rows.js';
import { RssMeter } from './rss.js';
import type { TranscoderSet } from './transcoder-set.js';

export interface AttributeOptions {
  /** Keep nodes up to this share of the cumulative influence (default 0.8). */
  nodeThreshold?: number;
  /** Keep edges up to this share of the cumulative edge score (default 0.98). */
  edgeThreshold?: number;
  /** false: keep every node and edge (default true). */
  prune?: boolean;
  /** At most this many logit nodes (default 10)... */
  maxLogits?: number;
  /** ...the most probable ones until they hold this probability (default 0.95). */
  logitProbability?: number;
  /** Targets per batched backward pass (default 128). */
  batchSize?: number;
  /** After node pruning, keep at most this many feature nodes (the most influential; default 8192). */
  maxFeatureNodes?: number;
  /** Refuse graphs whose kept part has more edges than this (default 40 million). */
  maxEdges?: number;
  onProgress?: (phase: 'attribute' | 'prune', done: number, total: number) => void;
}

export interface NodeValues {
  /** Features: the activation; logits: the probability. */
  activation: Float32Array;
  /** Features: the encoder pre-activation; logits: the demeaned logit. What a node's incoming edges explain. */
  value: Float64Array;
  /** Features: b_enc; 0 for logits. */
  bias: Float64Array;
  /** The contribution of everything that is not a node (see replacement.ts). */
  constant: Float64Array;
}

export interface Exactness {
  /** Rows checked (every feature and logit node). */
  checked: number;
  maxAbsError: number;
  /**
   * max over rows of |sum + bias + constant - value| / max(|value|, |bias| + |constant| + sum |edges|): the
   * error relative to the scale of the terms being added, which is what float32 rounding acts on (a value
   * near zero that is the sum of large terms cannot be exact relative to itself).
   */
  maxRelError: number;
  /** The same against |value| alone (over rows whose |value| is at least 1% of their scale). */
  maxRelErrorOfValue: number;
  /** The row with the largest relative error (global node index). */
  worst: number;
}

export interface AttributionGraph {
  state: ReplacementState;
  index: NodeIndex;
  tokenIds: number[];
  logitTokens: number[];
  logitProbs: number[];
  /** Node influence on the logits (full graph), per global node. */
  influence: Float64Array;
  /** Cumulative share at each node's rank (what graph JSON calls "influence"). */
  cumulativeInfluence: Float64Array;
  /** Per node: 1 when kept. */
  keep: Uint8Array;
  /** Kept edges (source -> target, weight = contribution to the target's value). */
  edges: { source: Int32Array; target: Int32Array; weight: Float32Array };
  /** Per target node (features and logits; NaN elsewhere). */
  values: NodeValues;
  replacementScore: number;
  completenessScore: number;
  exactness: Exactness;
  settings: Required<Omit<AttributeOptions, 'onProgress'>> & { featureCapApplied: boolean };
  seconds: number;
  peakRssMb: number;
}

const DEFAULTS = { nodeThreshold: 0.8, edgeThreshold: 0.98, prune: true, maxLogits: 10, logitProbability: 0.95, batchSize: 128, maxFeatureNodes: 8192, maxEdges: 40_000_000 };

export function checkThreshold(name: string, v: number): void {
  if (!(v > 0 && v <= 1)) throw new InputError(`${name} must be in (0, 1], got ${v}`, { [name]: v });
}

/** The most probable next tokens until they hold `p` of the probability (at most `max`), as circuit-tracer picks them. */
export function salientLogits(logits: Float32Array, max: number, p: number): { tokens: number[]; probs: number[] } {
  let m = -Infinity;
  for (const v of logits) m = Math.max(m, v);
  let z = 0;
  for (const v of logits) z += Math.exp(v - m);
  const order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b).slice(0, max);
  const tokens: number[] = [];
  const probs: number[] = [];
  let acc = 0;
  for (const v of order) {
    const q = Math.exp(logits[v]! - m) / z;
    tokens.push(v);
    probs.push(q);
    acc += q;
    if (acc >= p) break;
  }
  return { tokens, probs };
}

export function attribute(model: Transformer, set: TranscoderSet, ids: readonly number[], opts: AttributeOptions = {}): AttributionGraph {
  const o = { ...DEFAULTS, ...stripUndefined(opts) };
  checkThreshold('node threshold', o.nodeThreshold);
  checkThreshold('edge threshold', o.edgeThreshold);
  checkThreshold('logit probability', o.logitProbability);
  if (!Number.isInteger(o.maxLogits) || o.maxLogits < 1) throw new InputError(`max logits must be a positive integer, got ${o.maxLogits}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new InputError(`batch size must be a positive integer, got ${o.batchSize}`);
  if (!Number.isInteger(o.maxFeatureNodes) || o.maxFeatureNodes < 1) throw new InputError(`max feature nodes must be a positive integer, got ${o.maxFeatureNodes}`);
  if (!Number.isInteger(o.maxEdges) || o.maxEdges < 1) throw new InputError(`max edges must be a positive integer, got ${o.maxEdges}`);
  const meter = new RssMeter();
  const t0 = performance.now();

  const st = prepareReplacement(model, set, ids);
  meter.sample();
  const N = model.config.nLayers;
  const D = model.config.dModel;
  const { tokens: logitTokens, probs: logitProbs } = salientLogits(st.logits, o.maxLogits, o.logitProbability);
  const idx = new NodeIndex(st.latents, st.T, logitTokens.length);
  const rc = new RowComputer(st, idx, logitTokens);
  const values = targetValues(st, idx, logitTokens, logitProbs, D);
  const w = new Float64Array(idx.size);
  logitTokens.forEach((_, i) => (w[idx.logitIndex(i)] = logitProbs[i]!));

  // Targets of each layer, in position order; the logits are "layer N".
  const targetsOf = (L: number): Int32Array => {
    if (L === N) return Int32Array.from(logitTokens, (_, i) => idx.logitIndex(i));
    const a = idx.featStart[L]![0]!;
    return Int32Array.from({ length: idx.featStart[L]![st.T]! - a }, (_, i) => a + i);
  };
  const batchesOf = (L: number, targets: Int32Array): { targets: Int32Array; P: number }[] =>
    L === N ? (targets.length ? [{ targets, P: st.T }] : []) : targetBatches(targets, (t) => idx.featPos[t]!, o.batchSize);
  const totalRows = idx.nFeatures + idx.nLogits;

  // ---- pass 1: influence, scores, exactness ----
  const inf = new Float64Array(idx.size);
  const errShare = new Float64Array(idx.size);
  const ex: Exactness = { checked: 0, maxAbsError: 0, maxRelError: 0, maxRelErrorOfValue: 0, worst: -1 };
  let done = 0;
  for (let L = N; L >= 0; L--) {
    for (const b of batchesOf(L, targetsOf(L))) {
      const batch = rc.compute(L, b.targets, b.P);
      meter.sample();
      forEachRow(batch, (t, row, off) => {
        let z = 0;
        let sum = 0;
        let zErr = 0;
        for (const r of batch.ranges) {
          for (let c = r.local; c < r.local + r.length; c++) {
            const v = row[off + c]!;
            const a = Math.abs(v);
            z += a;
            sum += v;
            if (r.kind === 'error') zErr += a;
          }
        }
        checkRow(ex, t, sum, z, values);
        const coef = (w[t]! + inf[t]!) / Math.max(z, 1e-10);
        errShare[t] = zErr / Math.max(z, 1e-10);
        if (coef === 0) return;
        for (const r of batch.ranges) {
          const shift = r.global - r.local;
          for (let c = r.local; c < r.local + r.length; c++) {
            const v = row[off + c]!;
            if (v !== 0) inf[c + shift] += coef * Math.abs(v);
          }
        }
      });
      done += b.targets.length;
      opts.onProgress?.('attribute', done, totalRows);
    }
  }
  let tokInf = 0;
  let errInf = 0;
  for (let i = idx.errorStart; i < idx.tokenStart; i++) errInf += inf[i]!;
  for (let i = idx.tokenStart; i < idx.logitStart; i++) tokInf += inf[i]!;
  let num = 0;
  let den = 0;
  for (let i = 0; i < idx.size; i++) {
    const out = inf[i]! + w[i]!;
    num += (1 - errShare[i]!) * out;
    den += out;
  }
  const replacementScore = tokInf + errInf > 0 ? tokInf / (tokInf + errInf) : 1;
  const completenessScore = den > 0 ? num / den : 1;

  // ---- node pruning ----
  const keep = new Uint8Array(idx.size);
  let featureCapApplied = false;
  if (!o.prune) keep.fill(1);
  else {
    const thr = o.nodeThreshold >= 1 ? -Infinity : findThreshold(inf, o.nodeThreshold);
    for (let i = 0; i < idx.size; i++) keep[i] = inf[i]! >= thr ? 1 : 0;
    for (let i = idx.tokenStart; i < idx.size; i++) keep[i] = 1;
    const kept = [];
    for (let i = 0; i < idx.nFeatures; i++) if (keep[i]) kept.push(i);
    if (kept.length > o.maxFeatureNodes) {
      featureCapApplied = true;
      kept.sort((a, b) => inf[b]! - inf[a]! || a - b);
      for (const i of kept.slice(o.maxFeatureNodes)) keep[i] = 0;
    }
  }

  // ---- pass 2: the kept rows, restricted to kept columns ----
  const edges = new EdgeBuffer();
  const pinf = new Float64Array(idx.size);
  let keptRows = 0;
  for (let L = N; L >= 0; L--) keptRows += targetsOf(L).filter((t) => keep[t] === 1).length;
  let done2 = 0;
  for (let L = N; L >= 0; L--) {
    const targets = targetsOf(L).filter((t) => keep[t] === 1);
    for (const b of batchesOf(L, targets)) {
      const batch = rc.compute(L, b.targets, b.P);
      meter.sample();
      forEachRow(batch, (t, row, off) => {
        let z = 0;
        for (const r of batch.ranges) {
          const shift = r.global - r.local;
          for (let c = r.local; c < r.local + r.length; c++) if (keep[c + shift]) z += Math.abs(row[off + c]!);
        }
        const inv = 1 / Math.max(z, 1e-10);
        const out = pinf[t]! + w[t]!;
        for (const r of batch.ranges) {
          const shift = r.global - r.local;
          for (let c = r.local; c < r.local + r.length; c++) {
            const v = row[off + c]!;
            const s = c + shift;
            if (v === 0 || !keep[s]) continue;
            const ah = Math.abs(v) * inv;
            pinf[s] += out * ah;
            edges.push(s, t, v, ah * out);
          }
        }
        if (edges.length > o.maxEdges) {
          throw new InputError(
            `the ${o.prune ? 'pruned' : 'unpruned'} graph has more than ${o.maxEdges} edges (${idx.nFeatures} active features over ${st.T} tokens): ${o.prune ? 'lower --node-threshold or --max-feature-nodes' : 'prune it, or use a shorter prompt'}`,
          );
        }
      });
      done2 += b.targets.length;
      opts.onProgress?.('prune', done2, keptRows);
    }
  }
  meter.sample();
  const edgeKeep = new Uint8Array(edges.length);
  if (!o.prune || o.edgeThreshold >= 1) edgeKeep.fill(1);
  else {
    const thr = findThreshold(edges.score.subarray(0, edges.length), o.edgeThreshold);
    for (let e = 0; e < edges.length; e++) edgeKeep[e] = edges.score[e]! >= thr ? 1 : 0;
    cleanUp(idx, keep, edges, edgeKeep);
  }
  let nKept = 0;
  for (let e = 0; e < edges.length; e++) if (edgeKeep[e] && keep[edges.source[e]!] && keep[edges.target[e]!]) nKept++;
  const source = new Int32Array(nKept);
  const target = new Int32Array(nKept);
  const weight = new Float32Array(nKept);
  let k = 0;
  for (let e = 0; e < edges.length; e++) {
    if (!(edgeKeep[e] && keep[edges.source[e]!] && keep[edges.target[e]!])) continue;
    source[k] = edges.source[e]!;
    target[k] = edges.target[e]!;
    weight[k++] = edges.weight[e]!;
  }
  meter.sample();
  const { onProgress: _ignored, ...settings } = o;
  return {
    state: st,
    index: idx,
    tokenIds: st.ids,
    logitTokens,
    logitProbs,
    influence: inf,
    cumulativeInfluence: cumulativeShares(inf),
    keep,
    edges: { source, target, weight },
    values,
    replacementScore,
    completenessScore,
    exactness: ex,
    settings: { ...settings, featureCapApplied },
    seconds: (performance.now() - t0) / 1000,
    peakRssMb: meter.stop(),
  };
}

function forEachRow(batch: RowBatch, fn: (target: number, rows: Float32Array, offset: number) => void): void {
  for (let s = 0; s < batch.targets.length; s++) fn(batch.targets[s]!, batch.rows, s * batch.nLocal);
}

/** What each target's incoming edges must explain, with its bias and constant terms. */
function targetValues(st: ReplacementState, idx: NodeIndex, logitTokens: readonly number[], logitProbs: readonly number[], D: number): NodeValues {
  const n = idx.size;
  const v: NodeValues = { activation: new Float32Array(n).fill(NaN), value: new Float64Array(n).fill(NaN), bias: new Float64Array(n).fill(NaN), constant: new Float64Array(n).fill(NaN) };
  for (let i = 0; i < idx.nFeatures; i++) {
    const L = idx.featLayer[i]!;
    const e = idx.featEntry[i]!;
    const f = idx.featLatent[i]!;
    const p = idx.featPos[i]!;
    const enc = st.set.layers[L]!;
    v.activation[i] = st.latents[L]!.val[e]!;
    v.value[i] = st.preActs[L]![e]!;
    v.bias[i] = enc.b_enc_F[f]!;
    let c = 0;
    const x = st.constInputs[L]!;
    for (let j = 0; j < D; j++) c += enc.W_enc_FD[f * D + j]! * x[p * D + j]!;
    v.constant[i] = c;
  }
  const mean = (a: Float32Array): number => a.reduce((s, x) => s + x, 0) / a.length;
  const m = mean(st.logits);
  const mc = mean(st.constLogits);
  logitTokens.forEach((tok, i) => {
    const g = idx.logitIndex(i);
    v.activation[g] = logitProbs[i]!;
    v.value[g] = st.logits[tok]! - m;
    v.bias[g] = 0;
    v.constant[g] = st.constLogits[tok]! - mc;
  });
  return v;
}

/** Exactness of one row: `sum` and `l1` are the signed and absolute sums of its edges. */
export function checkRow(ex: Exactness, t: number, sum: number, l1: number, v: NodeValues): void {
  const value = v.value[t]!;
  const err = Math.abs(sum + v.bias[t]! + v.constant[t]! - value);
  const scale = Math.max(Math.abs(value), l1 + Math.abs(v.bias[t]!) + Math.abs(v.constant[t]!), 1e-30);
  const rel = err / scale;
  if (Math.abs(value) >= 0.01 * scale) ex.maxRelErrorOfValue = Math.max(ex.maxRelErrorOfValue, err / Math.abs(value));
  ex.checked++;
  ex.maxAbsError = Math.max(ex.maxAbsError, err);
  if (rel > ex.maxRelError || ex.worst < 0) {
    ex.maxRelError = rel;
    ex.worst = t;
  }
}

/** Edges between kept nodes, grown as rows arrive. */
class EdgeBuffer {
  source = new Int32Array(1024);
  target = new Int32Array(1024);
  weight = new Float32Array(1024);
  score = new Float32Array(1024);
  length = 0;
  push(s: number, t: number, w: number, score: number): void {
    if (this.length === this.source.length) {
      const grow = <A extends Int32Array | Float32Array>(a: A): A => {
        const b = new (a.constructor as new (n: number) => A)(a.length * 2);
        b.set(a);
        return b;
      };
      this.source = grow(this.source);
      this.target = grow(this.target);
      this.weight = grow(this.weight);
      this.score = grow(this.score);
    }
    const i = this.length++;
    this.source[i] = s;
    this.target[i] = t;
    this.weight[i] = w;
    this.score[i] = score;
  }
}

/**
 * circuit-tracer's clean-up after edge pruning, to a fixed point: a kept feature or error node needs a kept
 * outgoing edge, a kept feature also an incoming one; edges of dropped nodes go.
 */
function cleanUp(idx: NodeIndex, keep: Uint8Array, edges: EdgeBuffer, edgeKeep: Uint8Array): void {
  const hasOut = new Uint8Array(idx.size);
  const hasIn = new Uint8Array(idx.size);
  for (let changed = true; changed; ) {
    changed = false;
    hasOut.fill(0);
    hasIn.fill(0);
    for (let e = 0; e < edges.length; e++) {
      if (!edgeKeep[e]) continue;
      const s = edges.source[e]!;
      const t = edges.target[e]!;
      if (!keep[s] || !keep[t]) {
        edgeKeep[e] = 0;
        continue;
      }
      hasOut[s] = 1;
      hasIn[t] = 1;
    }
    for (let i = 0; i < idx.tokenStart; i++) {
      if (!keep[i]) continue;
      const drop = !hasOut[i] || (i < idx.nFeatures && !hasIn[i]);
      if (drop) {
        keep[i] = 0;
        changed = true;
      }
    }
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
