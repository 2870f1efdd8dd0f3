// The nodes of an attribution graph and their ids. Global node order (circuit-tracer's): active features
// (by layer, then position, then latent index), error nodes (layer-major, one per (layer, position)),
// token-embedding nodes (one per position), then the output logits.
//
// Node ids in graph JSON (docs/circuits.md), chosen so that no two kinds can collide:
//   feature    `${layer}_${feature}_${pos}`      layer 0..N-1, feature >= 0
//   error      `${layer}_-1_${pos}`              feature slot -1, which no latent has
//   embedding  `E_${tokenId}_${pos}`             starts with "E"
//   logit      `${N + 1}_${tokenId}_${pos}`      layer slot N + 1, which no feature or error has
// (circuit-tracer wrote errors as `0_${layer}_${pos}`, which collides with layer-0 features.)
import type { SparseLatents } from '../sae/kernels.js';

export type NodeKind = 'feature' | 'error' | 'token' | 'logit';

export class NodeIndex {
  readonly nLayers: number;
  readonly T: number;
  readonly nFeatures: number;
  readonly nErrors: number;
  readonly nTokens: number;
  readonly nLogits: number;
  readonly size: number;
  /** featStart[L][p]: global index of the first feature of layer L at position p; featStart[L][T] ends layer L. */
  readonly featStart: Int32Array[];
  /** Per global feature index: its layer, position, latent index and the entry in latents[layer]. */
  readonly featLayer: Int32Array;
  readonly featPos: Int32Array;
  readonly featLatent: Int32Array;
  readonly featEntry: Int32Array;

  constructor(latents: readonly SparseLatents[], T: number, nLogits: number) {
    this.nLayers = latents.length;
    this.T = T;
    let n = 0;
    this.featStart = latents.map((lat) => {
      const s = new Int32Array(T + 1);
      for (let p = 0; p <= T; p++) s[p] = n + lat.rowPtr[p]!;
      n += lat.rowPtr[T]!;
      return s;
    });
    this.nFeatures = n;
    this.nErrors = this.nLayers * T;
    this.nTokens = T;
    this.nLogits = nLogits;
    this.size = n + this.nErrors + T + nLogits;
    this.featLayer = new Int32Array(n);
    this.featPos = new Int32Array(n);
    this.featLatent = new Int32Array(n);
    this.featEntry = new Int32Array(n);
    latents.forEach((lat, L) => {
      const base = this.featStart[L]![0]!;
      for (let p = 0; p < T; p++) {
        for (let e = lat.rowPtr[p]!; e < lat.rowPtr[p + 1]!; e++) {
          const g = base + e;
          this.featLayer[g] = L;
          this.featPos[g] = p;
          this.featLatent[g] = lat.idx[e]!;
          this.featEntry[g] = e;
        }
      }
    });
  }

  get errorStart(): number {
    return this.nFeatures;
  }
  get tokenStart(): number {
    return this.nFeatures + this.nErrors;
  }
  get logitStart(): number {
    return this.nFeatures + this.nErrors + this.nTokens;
  }
  errorIndex(layer: number, pos: number): number {
    return this.nFeatures + layer * this.T + pos;
  }
  tokenIndex(pos: number): number {
    return this.tokenStart + pos;
  }
  logitIndex(i: number): number {
    return this.logitStart + i;
  }

  kind(i: number): NodeKind {
    if (i < this.nFeatures) return 'feature';
    if (i < this.tokenStart) return 'error';
    if (i < this.logitStart) return 'token';
    return 'logit';
  }

  /** Layer of a node for ordering: features and errors their layer, tokens -1, logits N. */
  layerOf(i: number): number {
    const k = this.kind(i);
    if (k === 'feature') return this.featLayer[i]!;
    if (k === 'error') return Math.floor((i - this.nFeatures) / this.T);
    return k === 'token' ? -1 : this.nLayers;
  }

  posOf(i: number, lastPos = this.T - 1): number {
    const k = this.kind(i);
    if (k === 'feature') return this.featPos[i]!;
    if (k === 'error') return (i - this.nFeatures) % this.T;
    if (k === 'token') return i - this.tokenStart;
    return lastPos;
  }
}

/** The JSON id of node i (see the header for the format). */
export function nodeId(idx: NodeIndex, i: number, tokenIds: readonly number[], logitTokens: readonly number[]): string {
  const k = idx.kind(i);
  const pos = idx.posOf(i);
  if (k === 'feature') return `${idx.featLayer[i]}_${idx.featLatent[i]}_${pos}`;
  if (k === 'error') return `${idx.layerOf(i)}_-1_${pos}`;
  if (k === 'token') return `E_${tokenIds[pos]}_${pos}`;
  return `${idx.nLayers + 1}_${logitTokens[i - idx.logitStart]}_${pos}`;
}

export interface ParsedNodeId {
  kind: NodeKind;
  layer: number;
  /** Latent index (features), token id (embeddings, logits), -1 (errors). */
  index: number;
  pos: number;
}

/** Inverse of nodeId, given the model's layer count; null for a string that is no node id. */
export function parseNodeId(id: string, nLayers: number): ParsedNodeId | null {
  const parts = id.split('_');
  if (parts.length !== 3) return null;
  const [a, b, c] = parts as [string, string, string];
  const int = (s: string): number | null => (/^-?\d+$/.test(s) ? Number(s) : null);
  const index = int(b);
  const pos = int(c);
  if (index === null || pos === null || pos < 0) return null;
  if (a === 'E') return index >= 0 ? { kind: 'token', layer: -1, index, pos } : null;
  const layer = int(a);
  if (layer === null || layer < 0) return null;
  if (layer === nLayers + 1) return index >= 0 ? { kind: 'logit', layer: nLayers, index, pos } : null;
  if (layer >= nLayers) return null;
  if (index === -1) return { kind: 'error', layer, index, pos };
  return index >= 0 ? { kind: 'feature', layer, index, pos } : null;
}
