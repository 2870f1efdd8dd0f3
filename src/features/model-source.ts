// The real ActivationSource: a checkpoint (llama2.c .bin or Hugging Face directory), its tokenizer, and
// an SAELens-layout dictionary, spliced into the run at its hook; the latents are read from the splice
// (sae/splice.ts), so the features module sees what every other consumer of the dictionary sees.
// The run stops after the last block the dictionary touches: later layers cannot change its latents.
import { InputError } from '../errors.js';
import { TokenBatch, hookLayer, loadModel, type Transformer } from '../model/index.js';
import { loadTokenizer, type Tokenizer } from '../model/tokenizers/index.js';
import { CFG_FILE, WEIGHTS_FILE, loadSae } from '../sae/format.js';
import type { SparseLatents } from '../sae/kernels.js';
import type { Sae } from '../sae/sae.js';
import { spliceHooks } from '../sae/splice.js';
import * as T from '../tensor/index.js';
import { sha256Files, sha256Path } from './identity.js';
import type { SourcePaths } from './load-source.js';
import type { ActivationSource, LatentBatch, LogitReadout, SourceIdentity } from './source.js';

export async function loadModelSource(paths: SourcePaths): Promise<ActivationSource> {
  const model = loadModel(paths.model);
  const tokenizer = await loadTokenizer(paths.tokenizer, { vocabSize: model.config.vocabSize });
  const sae = loadSae(paths.dictionary);
  // The dictionary is its config and weights; training leftovers in the directory (checkpoints,
  // sparsity statistics) do not change it.
  const [modelSha, tokSha, saeSha] = await Promise.all([sha256Path(paths.model), sha256Path(paths.tokenizer), sha256Files(paths.dictionary, [CFG_FILE, WEIGHTS_FILE])]);
  const c = model.config;
  const identity: SourceIdentity = {
    model: { path: paths.model, sha256: modelSha, architecture: c.family, dModel: c.dModel, nLayers: c.nLayers, vocabSize: c.vocabSize },
    tokenizer: { path: paths.tokenizer, sha256: tokSha },
    dictionary: {
      path: paths.dictionary,
      sha256: saeSha,
      architecture: sae.cfg.architecture,
      hookName: sae.cfg.hookName,
      hookNameOut: sae.cfg.hookNameOut,
      dIn: sae.dIn,
      nFeatures: sae.dSae,
    },
  };
  return new ModelFeatureSource(model, tokenizer, sae, identity);
}

export class ModelFeatureSource implements ActivationSource {
  readonly nFeatures: number;
  readonly preferredBatch = 16;
  private readonly stopAtLayer: number | undefined;

  constructor(
    readonly model: Transformer,
    readonly tokenizer: Tokenizer,
    readonly sae: Sae,
    readonly identity: SourceIdentity,
  ) {
    this.nFeatures = sae.dSae;
    const names = new Set(model.hookNames());
    for (const h of [sae.cfg.hookName, sae.cfg.hookNameOut]) {
      if (h && !names.has(h)) throw new InputError(`the dictionary reads hook "${h}", which this model does not have`, { hook: h });
    }
    const layers = [sae.cfg.hookName, sae.cfg.hookNameOut].filter((h): h is string => !!h).map((h) => hookLayer(h));
    // Embedding hooks have no layer (stop before block 0); ln_final/unembed need the whole run.
    const after = (h: string | null, l: number | null): number | undefined => (l !== null ? l + 1 : h && /^hook_(embed|pos_embed)$/.test(h) ? 0 : undefined);
    const stops = [sae.cfg.hookName, sae.cfg.hookNameOut].filter((h): h is string => !!h).map((h, i) => after(h, layers[i]!));
    this.stopAtLayer = stops.includes(undefined) ? undefined : Math.max(...(stops as number[]));
  }

  async encode(sequences: readonly (readonly number[])[]): Promise<LatentBatch> {
    const batch = TokenBatch.from(sequences);
    const F = this.nFeatures;
    const B = batch.batch;
    const Tn = batch.maxLen;
    let sparse: SparseLatents | null = null;
    let dense: Float32Array | null = null;
    let skipped: Uint8Array | null = null;
    const hooks = spliceHooks(this.sae, {
      bosId: this.tokenizer.bosId,
      onSplice: (e) => {
        sparse = e.sparse;
        dense = e.latents ? e.latents.data : null;
        skipped = e.skipped;
      },
    });
    T.noGrad(() => this.model.run(batch, { hooks, stopAtLayer: this.stopAtLayer, withGrad: false }));
    if (!skipped) throw new InputError(`the dictionary's hook ${this.sae.cfg.hookName} was not reached in the run`);
    const acts = new Float32Array(B * Tn * F);
    const skip = skipped as Uint8Array;
    let rows: LatentBatch['sparse'];
    if (sparse) {
      // BOS and padding rows are left out, as the splice leaves those positions alone.
      const s = sparse as SparseLatents;
      const rowPtr = new Int32Array(s.rows + 1);
      const idx = new Int32Array(s.rowPtr[s.rows]!);
      const val = new Float32Array(s.rowPtr[s.rows]!);
      let n = 0;
      for (let r = 0; r < s.rows; r++) {
        if (!skip[r]) {
          for (let i = s.rowPtr[r]!; i < s.rowPtr[r + 1]!; i++) {
            acts[r * F + s.idx[i]!] = s.val[i]!;
            idx[n] = s.idx[i]!;
            val[n++] = s.val[i]!;
          }
        }
        rowPtr[r + 1] = n;
      }
      rows = { rowPtr, idx, val };
    } else if (dense) {
      const d = dense as Float32Array;
      for (let r = 0; r < B * Tn; r++) if (!skip[r]) acts.set(d.subarray(r * F, (r + 1) * F), r * F);
    }
    return { acts_BTF: acts, batch: B, maxLen: Tn, lengths: batch.lengths, nFeatures: F, sparse: rows };
  }

  decoder(): { W_dec: Float32Array; dOut: number } {
    return { W_dec: this.sae.params.W_dec_FO.data, dOut: this.sae.dOut };
  }

  logitReadout(): LogitReadout | null {
    const c = this.model.config;
    const p = this.model.params;
    // Only directions that live in the residual stream read out through the unembedding.
    if (this.sae.dOut !== c.dModel) return null;
    const out = this.sae.cfg.hookNameOut ?? this.sae.cfg.hookName;
    if (!/hook_(resid_(pre|mid|post)|attn_out|mlp_out|embed|pos_embed)$/.test(out)) return null;
    return { norm: { kind: c.norm, weight: p.lnFinal.w.data }, unembed: p.W_U.data, transposed: true, dModel: c.dModel, vocabSize: c.vocabSize };
  }
}
