// Random transcoder sets for tests: the exactness of attribution holds for any weights, trained or not.
import type { Transformer } from '../model/index.js';
import { defaultConfig } from '../sae/config.js';
import { Sae } from '../sae/sae.js';
import { Rng } from '../tensor/index.js';
import { inputHook, outputHook, TranscoderSet, type InputSite } from './transcoder-set.js';

export interface RandomSetOptions {
  kind: 'per-layer' | 'clt';
  F?: number;
  k?: number;
  seed?: number;
  /** Per-layer only: give every transcoder a linear skip. */
  skip?: boolean;
  site?: InputSite;
  /** Per-layer only: 'relu' transcoders instead of TopK. */
  activation?: 'topk' | 'relu';
}

export function randomTranscoderSet(model: Transformer, o: RandomSetOptions): TranscoderSet {
  const c = model.config;
  const D = c.dModel;
  const N = c.nLayers;
  const F = o.F ?? 24;
  const k = o.k ?? 4;
  const site = o.site ?? 'ln2.hook_normalized';
  const rng = new Rng(o.seed ?? 7);
  const fill = (n: number, std: number, mean = 0): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = mean + std * rng.normal();
    return a;
  };
  if (o.kind === 'clt') {
    return TranscoderSet.clt({
      dModel: D,
      k,
      site,
      W_enc: Array.from({ length: N }, () => fill(F * D, 0.4)),
      b_enc: Array.from({ length: N }, () => fill(F, 0.2, 0.1)),
      W_dec: Array.from({ length: N }, (_, L) => fill(F * (N - L) * D, 0.2)),
      b_dec: Array.from({ length: N }, () => fill(D, 0.1)),
      info: { modelName: 'random' },
    });
  }
  const saes = Array.from({ length: N }, (_, L) => {
    const relu = o.activation === 'relu';
    const cfg = defaultConfig({
      architecture: relu ? 'transcoder-relu' : 'transcoder-topk',
      dIn: D,
      dSae: F,
      dOut: D,
      k: relu ? null : k,
      hookName: inputHook(L, site),
      hookNameOut: outputHook(L),
      skip: o.skip ?? false,
      modelName: 'random',
    });
    const sae = Sae.zeros(cfg);
    const p = sae.params;
    p.W_enc_FD.data.set(fill(F * D, 0.4));
    p.b_enc_F.data.set(fill(F, 0.2, relu ? -0.2 : 0.1));
    p.W_dec_FO.data.set(fill(F * D, 0.2));
    p.b_dec_O.data.set(fill(D, 0.1));
    p.W_skip_DO?.data.set(fill(D * D, 0.05));
    return sae;
  });
  return TranscoderSet.fromSaes(saes, { modelName: 'random' });
}
