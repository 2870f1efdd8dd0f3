// The seam between feature analysis and the model: an ActivationSource turns token sequences into
// dictionary latent activations. Build and inspect both go through latentActivations() below, so the
// numbers a feature page stores are the numbers a live prompt inspection recomputes.
import { InputError } from '../errors.js';
import type { Tokenizer } from '../model/tokenizers/index.js';

/** What a feature database records about the files it was built from (content hashes included). */
export interface SourceIdentity {
  model: { path: string; sha256: string; architecture: string; dModel: number; nLayers: number; vocabSize: number };
  tokenizer: { path: string; sha256: string };
  dictionary: {
    path: string;
    sha256: string;
    architecture: string;
    /** Hook the dictionary reads (TransformerLens name). */
    hookName: string;
    /** Transcoders: the hook they write (else null). */
    hookNameOut: string | null;
    dIn: number;
    nFeatures: number;
  };
}

/**
 * How a decoder direction reaches the logits: through the final norm's affine weight (LayerNorm also
 * removes the mean, which is what its centring does to any direction) and the unembedding. The norm's
 * data-dependent scale is left out: it rescales every token's logits by the same factor.
 */
export interface LogitReadout {
  norm: { kind: 'rms' | 'layer'; weight: Float32Array | null };
  /** W_U stored [dModel, vocab] (transposed = false) or [vocab, dModel] (tied embeddings). */
  unembed: Float32Array;
  transposed: boolean;
  dModel: number;
  vocabSize: number;
}

/** Latent activations of a batch, right-padded: acts_BTF[(b * maxLen + t) * nFeatures + f]. */
export interface LatentBatch {
  acts_BTF: Float32Array;
  batch: number;
  maxLen: number;
  lengths: Int32Array;
  nFeatures: number;
  /**
   * Optionally the same activations as compressed rows (row = b * maxLen + t; only non-zero entries),
   * which spares the statistics pass a scan of every latent of every token.
   */
  sparse?: { rowPtr: Int32Array; idx: Int32Array; val: Float32Array };
}

export interface ActivationSource {
  readonly identity: SourceIdentity;
  readonly tokenizer: Tokenizer;
  readonly nFeatures: number;
  /**
   * Latent activations for sequences of token ids, exactly as given (no BOS is added). Padded
   * positions (t >= lengths[b]) hold zeros.
   */
  encode(sequences: readonly (readonly number[])[]): Promise<LatentBatch>;
  /** Decoder directions W_dec [nFeatures, dOut], row-major (where each feature writes). */
  decoder(): { W_dec: Float32Array; dOut: number };
  /** How a direction in the dictionary's output space maps to logits; null when it does not apply. */
  logitReadout(): LogitReadout | null;
  /** Most sequences worth sending through encode() at once. */
  readonly preferredBatch?: number;
  close?(): void;
}

/**
 * The one activation computation of the features module: build, inspect and live search all call this,
 * so stored and recomputed activations come from the same code. Validates ids, then encodes the
 * sequences as one batch.
 */
export async function encodeChecked(source: ActivationSource, sequences: readonly (readonly number[])[]): Promise<LatentBatch> {
  const V = source.tokenizer.vocabSize;
  for (const s of sequences) {
    if (s.length === 0) throw new InputError('cannot compute activations of an empty token sequence');
    for (const id of s) if (!Number.isInteger(id) || id < 0 || id >= V) throw new InputError(`token id ${id} is outside the vocabulary [0, ${V})`);
  }
  const lb = await source.encode(sequences);
  if (lb.nFeatures !== source.nFeatures || lb.batch !== sequences.length) {
    throw new InputError(`activation source returned ${lb.batch} x ${lb.nFeatures} latents for ${sequences.length} sequences of ${source.nFeatures} features`);
  }
  return lb;
}

/** encodeChecked in batches of `batchSize`, one [len_i, nFeatures] array per sequence. */
export async function latentActivations(source: ActivationSource, sequences: readonly (readonly number[])[], batchSize = 8): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < sequences.length; i += batchSize) {
    const lb = await encodeChecked(source, sequences.slice(i, i + batchSize));
    const F = lb.nFeatures;
    for (let b = 0; b < lb.batch; b++) {
      const start = b * lb.maxLen * F;
      out.push(lb.acts_BTF.slice(start, start + lb.lengths[b]! * F));
    }
  }
  return out;
}
