// A set of transcoders that replaces every MLP of a model: either one transcoder per layer (layer L's
// features read layer L's MLP input and write layer L's MLP output), or a cross-layer transcoder (CLT:
// layer L's features read layer L's MLP input and write the MLP outputs of layers L..N-1, each through its
// own decoder). Attribution, interventions and evaluation see both through this one class.
//
// Weights are kept in raw activation units (normalisation folded in), one row per latent:
//   encoders[L]  W_enc_FD [F, D], b_enc_F [F]
//   decoders[L][l - L]  W_dec_FD [F, D]: what latent f of source layer L adds to layer l's MLP output per unit
//   outputBias[l] [D]: the summed output biases (b_dec) that land in layer l's MLP output
//   skip[l] [D, D] or null: a per-layer transcoder's linear skip, output += x @ W_skip
// On disk (see docs/circuits.md): DIR/transcoders.json names the kind; per-layer sets keep each layer in
// SAELens layout (DIR/layer-L/), a CLT keeps DIR/clt.safetensors with circuit-tracer's tensor names.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FormatError, InputError } from '../errors.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import type { Transformer } from '../model/index.js';
import { loadSae, saveSae } from '../sae/format.js';
import { sparseDecode, topkSparse, type SparseLatents } from '../sae/kernels.js';
import type { Sae } from '../sae/sae.js';
import { gemm } from '../sae/train-step.js';

export const MANIFEST_FILE = 'transcoders.json';
export const CLT_WEIGHTS_FILE = 'clt.safetensors';
export const MANIFEST_FORMAT = 'loupe-transcoders/1';

export type TranscoderKind = 'per-layer' | 'clt';
/** Where layer L's features read: the MLP's normalised input (before the ln2 weight), or the residual stream before ln2. */
export type InputSite = 'ln2.hook_normalized' | 'hook_resid_mid';
export const INPUT_SITES: readonly InputSite[] = ['ln2.hook_normalized', 'hook_resid_mid'];

export function inputHook(layer: number, site: InputSite): string {
  return `blocks.${layer}.${site}`;
}
export function outputHook(layer: number): string {
  return `blocks.${layer}.hook_mlp_out`;
}

/** The features of one source layer. */
export interface SourceLayer {
  layer: number;
  F: number;
  W_enc_FD: Float32Array;
  b_enc_F: Float32Array;
  /** decoders[j] writes layer `layer + j` (a per-layer transcoder has exactly one). */
  decoders: Float32Array[];
  /** Active latents of rows x_ND [n, D] (raw units), zeros dropped. */
  encode(x_ND: Float32Array, n: number): SparseLatents;
  /** One line for summaries: "transcoder-topk, k 16" ... */
  activation: string;
}

/** Per-layer quality numbers recorded at training time (and by `loupe transcoders eval`). */
export type LayerQuality = Record<string, number | string | null> & { layer: number };

export interface TranscoderSetInfo {
  modelName: string;
  /** Free-form training record (tokens, seconds, options ...). */
  training?: Record<string, unknown>;
  quality?: LayerQuality[];
}

export class TranscoderSet {
  readonly kind: TranscoderKind;
  readonly nLayers: number;
  readonly dModel: number;
  readonly site: InputSite;
  readonly layers: SourceLayer[];
  readonly outputBias: Float32Array[];
  readonly skip: (Float32Array | null)[];
  info: TranscoderSetInfo;
  /** Per-layer sets: the transcoders themselves (folded), for code that works on one Sae. */
  readonly saes: Sae[] | null;
  /** k of a TopK CLT (null for per-layer sets, whose transcoders carry their own). */
  readonly k: number | null;

  constructor(o: {
    kind: TranscoderKind;
    dModel: number;
    site: InputSite;
    layers: SourceLayer[];
    outputBias: Float32Array[];
    skip?: (Float32Array | null)[];
    info?: TranscoderSetInfo;
    saes?: Sae[] | null;
    k?: number | null;
  }) {
    this.kind = o.kind;
    this.nLayers = o.layers.length;
    this.dModel = o.dModel;
    this.site = o.site;
    this.layers = o.layers;
    this.outputBias = o.outputBias;
    this.skip = o.skip ?? o.layers.map(() => null);
    this.info = o.info ?? { modelName: '' };
    this.saes = o.saes ?? null;
    this.k = o.k ?? null;
    const D = o.dModel;
    o.layers.forEach((s, L) => {
      const where = `transcoders, layer ${L}`;
      if (s.layer !== L) throw new FormatError(where, `layers out of order (found layer ${s.layer} at index ${L})`);
      if (s.W_enc_FD.length !== s.F * D || s.b_enc_F.length !== s.F) throw new FormatError(where, `encoder is not [${s.F}, ${D}] + [${s.F}]`);
      const want = this.kind === 'clt' ? this.nLayers - L : 1;
      if (s.decoders.length !== want) throw new FormatError(where, `has ${s.decoders.length} decoders, a ${this.kind} layer has ${want}`);
      for (const d of s.decoders) if (d.length !== s.F * D) throw new FormatError(where, `a decoder is not [${s.F}, ${D}]`);
    });
    if (o.outputBias.length !== this.nLayers || o.outputBias.some((b) => b.length !== D)) throw new FormatError('transcoders', `need one output bias of ${D} per layer`);
  }

  /** Output layers written by source layer L. */
  outputsOf(L: number): number[] {
    return this.kind === 'clt' ? Array.from({ length: this.nLayers - L }, (_, j) => L + j) : [L];
  }

  /** The decoder [F, D] from source layer L to output layer l, or null when L does not write l. */
  decoder(L: number, l: number): Float32Array | null {
    const j = l - L;
    const d = this.layers[L]!.decoders;
    return j >= 0 && j < d.length ? d[j]! : null;
  }

  inputHook(layer: number): string {
    return inputHook(layer, this.site);
  }

  totalFeatures(): number {
    return this.layers.reduce((s, l) => s + l.F, 0);
  }

  /**
   * Layer l's MLP output as the transcoders predict it, [n, D]: every source layer's latents through its
   * decoder to l, plus the output bias, plus the skip term of l's input x_ND (when there is one).
   */
  reconstruct(l: number, latents: readonly SparseLatents[], xIn_ND: Float32Array | null, n: number): Float32Array {
    const D = this.dModel;
    const out = new Float32Array(n * D);
    for (let r = 0; r < n; r++) out.set(this.outputBias[l]!, r * D);
    const tmp = new Float32Array(n * D);
    for (let L = 0; L <= l; L++) {
      const W = this.decoder(L, l);
      if (!W) continue;
      sparseDecode(latents[L]!, W, null, tmp, D);
      for (let i = 0; i < out.length; i++) out[i] += tmp[i]!;
    }
    const S = this.skip[l];
    if (S) {
      if (!xIn_ND) throw new InputError(`layer ${l} has a skip connection: its input is needed to reconstruct its output`);
      gemm(xIn_ND, S, tmp, n, D, D);
      for (let i = 0; i < out.length; i++) out[i] += tmp[i]!;
    }
    return out;
  }

  /** A clear error when these transcoders cannot replace this model's MLPs. */
  checkFits(model: Transformer): void {
    const c = model.config;
    const mismatch = (what: string): InputError =>
      new InputError(`the transcoders do not match the model: ${what}`, { model: c.name ?? '', transcoders: this.info.modelName });
    if (c.attnOnly) throw mismatch('the model has no MLPs to replace (attention-only)');
    if (c.parallelAttnMlp) throw mismatch('parallel attention/MLP blocks (GPT-J, NeoX) are not supported by the replacement model yet');
    if (this.nLayers !== c.nLayers) throw mismatch(`they cover ${this.nLayers} layers, the model has ${c.nLayers}`);
    if (this.dModel !== c.dModel) throw mismatch(`their width is ${this.dModel}, the model's d_model is ${c.dModel}`);
  }

  summary(): Record<string, unknown> {
    return {
      kind: this.kind,
      n_layers: this.nLayers,
      d_model: this.dModel,
      input: this.site,
      features: this.layers.map((l) => l.F),
      activation: this.layers[0]?.activation ?? '',
      model_name: this.info.modelName,
    };
  }

  // ---- construction ----

  /** From one transcoder per layer (index = layer); each must read layer L's MLP input and write its output. */
  static fromSaes(saes: readonly Sae[], info?: Partial<TranscoderSetInfo>): TranscoderSet {
    if (saes.length === 0) throw new InputError('a transcoder set needs at least one layer');
    const folded = saes.map((s) => s.folded());
    const D = folded[0]!.dIn;
    let site: InputSite | null = null;
    const layers: SourceLayer[] = folded.map((sae, L) => {
      const where = `transcoder for layer ${L}`;
      if (!sae.isTranscoder) throw new InputError(`${where}: architecture "${sae.cfg.architecture}" is an SAE, not a transcoder`);
      const s = INPUT_SITES.find((x) => sae.cfg.hookName === inputHook(L, x));
      if (!s) throw new InputError(`${where} reads "${sae.cfg.hookName}"; expected ${INPUT_SITES.map((x) => inputHook(L, x)).join(' or ')}`);
      if (site && s !== site) throw new InputError(`${where} reads ${s}, earlier layers read ${site}: use one input site for every layer`);
      site = s;
      if (sae.cfg.hookNameOut !== outputHook(L)) throw new InputError(`${where} writes "${sae.cfg.hookNameOut}"; expected ${outputHook(L)}`);
      if (sae.dIn !== D || sae.dOut !== D) throw new InputError(`${where} maps ${sae.dIn} -> ${sae.dOut}; every layer must map d_model ${D} -> ${D}`);
      return {
        layer: L,
        F: sae.dSae,
        W_enc_FD: sae.params.W_enc_FD.data,
        b_enc_F: sae.params.b_enc_F.data,
        decoders: [sae.params.W_dec_FO.data],
        encode: (x, n) => sae.encodeSparse(x, n),
        activation: `${sae.cfg.architecture}${sae.cfg.k !== null ? `, k ${sae.cfg.k}` : ''}`,
      };
    });
    return new TranscoderSet({
      kind: 'per-layer',
      dModel: D,
      site: site!,
      layers,
      outputBias: folded.map((s) => s.params.b_dec_O.data),
      skip: folded.map((s) => s.params.W_skip_DO?.data ?? null),
      info: { modelName: info?.modelName ?? folded[0]!.cfg.modelName, training: info?.training, quality: info?.quality },
      saes: folded,
    });
  }

  /** A TopK cross-layer transcoder from its weights (raw units). */
  static clt(o: {
    dModel: number;
    k: number;
    site: InputSite;
    W_enc: Float32Array[];
    b_enc: Float32Array[];
    /** W_dec[L] [F, nLayers - L, D], circuit-tracer's layout. */
    W_dec: Float32Array[];
    b_dec: Float32Array[];
    info?: TranscoderSetInfo;
  }): TranscoderSet {
    const N = o.W_enc.length;
    const D = o.dModel;
    const layers: SourceLayer[] = o.W_enc.map((W_enc_FD, L) => {
      const F = o.b_enc[L]!.length;
      const outs = N - L;
      const packed = o.W_dec[L]!;
      if (packed.length !== F * outs * D) throw new FormatError(`CLT layer ${L}`, `W_dec holds ${packed.length} values, expected [${F}, ${outs}, ${D}]`);
      const decoders = Array.from({ length: outs }, (_, j) => {
        const d = new Float32Array(F * D);
        for (let f = 0; f < F; f++) d.set(packed.subarray((f * outs + j) * D, (f * outs + j + 1) * D), f * D);
        return d;
      });
      const b_enc_F = o.b_enc[L]!;
      return {
        layer: L,
        F,
        W_enc_FD,
        b_enc_F,
        decoders,
        encode: (x, n) => topkEncode(x, n, W_enc_FD, b_enc_F, F, D, o.k),
        activation: `clt-topk, k ${o.k}`,
      };
    });
    return new TranscoderSet({ kind: 'clt', dModel: D, site: o.site, layers, outputBias: o.b_dec, info: o.info, k: o.k });
  }

  // ---- disk ----

  /**
   * Write the set to `dir`. weights: false writes only the manifest (a per-layer set whose layers the
   * trainer already saved in DIR/layer-L, with their training metadata).
   */
  save(dir: string, opts: { weights?: boolean } = {}): void {
    fs.mkdirSync(dir, { recursive: true });
    const manifest: Record<string, unknown> = {
      format: MANIFEST_FORMAT,
      kind: this.kind,
      model_name: this.info.modelName,
      n_layers: this.nLayers,
      d_model: this.dModel,
      input_site: this.site,
    };
    if (this.kind === 'per-layer') {
      if (!this.saes) throw new InputError('this per-layer set was not built from transcoders; cannot save it');
      manifest.layers = this.saes.map((sae, L) => {
        const sub = `layer-${L}`;
        if (opts.weights ?? true) saveSae(sae, path.join(dir, sub));
        return { layer: L, path: sub };
      });
    } else {
      const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
      this.layers.forEach((s, L) => {
        const outs = this.nLayers - L;
        const packed = new Float32Array(s.F * outs * this.dModel);
        const D = this.dModel;
        s.decoders.forEach((d, j) => {
          for (let f = 0; f < s.F; f++) packed.set(d.subarray(f * D, (f + 1) * D), (f * outs + j) * D);
        });
        tensors[`W_enc_${L}`] = { dtype: 'F32', shape: [s.F, D], data: s.W_enc_FD };
        tensors[`b_enc_${L}`] = { dtype: 'F32', shape: [s.F], data: s.b_enc_F };
        tensors[`W_dec_${L}`] = { dtype: 'F32', shape: [s.F, outs, D], data: packed };
        tensors[`b_dec_${L}`] = { dtype: 'F32', shape: [D], data: this.outputBias[L]! };
      });
      writeSafetensors(path.join(dir, CLT_WEIGHTS_FILE), tensors);
      manifest.weights = CLT_WEIGHTS_FILE;
      manifest.architecture = 'clt-topk';
      manifest.k = this.k;
      manifest.d_sae = this.layers.map((l) => l.F);
    }
    if (this.info.training) manifest.training = this.info.training;
    if (this.info.quality) manifest.quality = this.info.quality;
    const file = path.join(dir, MANIFEST_FILE);
    fs.writeFileSync(`${file}.tmp-${process.pid}`, JSON.stringify(manifest, null, 2) + '\n');
    fs.renameSync(`${file}.tmp-${process.pid}`, file);
  }

  static load(dir: string): TranscoderSet {
    if (!fs.existsSync(dir)) throw new InputError(`${dir}: no such transcoder directory`, { path: dir });
    const file = path.join(dir, MANIFEST_FILE);
    if (!fs.existsSync(file)) {
      const single = fs.existsSync(path.join(dir, 'cfg.json'));
      throw new InputError(
        single
          ? `${dir} holds a single dictionary (cfg.json); attribution needs transcoders for every layer: train them with \`loupe transcoders train\``
          : `${dir}: not a transcoder set (no ${MANIFEST_FILE}); train one with \`loupe transcoders train\``,
        { path: dir },
      );
    }
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new FormatError(file, `not valid JSON: ${(err as Error).message}`);
    }
    if (m.format !== MANIFEST_FORMAT) throw new FormatError(file, `format is ${JSON.stringify(m.format)}, expected "${MANIFEST_FORMAT}"`);
    const info: TranscoderSetInfo = {
      modelName: typeof m.model_name === 'string' ? m.model_name : '',
      training: (m.training as Record<string, unknown> | undefined) ?? undefined,
      quality: (m.quality as LayerQuality[] | undefined) ?? undefined,
    };
    const site = m.input_site as InputSite;
    if (!INPUT_SITES.includes(site)) throw new FormatError(file, `input_site must be one of ${INPUT_SITES.join(', ')}, found ${JSON.stringify(m.input_site)}`);
    if (m.kind === 'per-layer') {
      const entries = m.layers as { layer: number; path: string }[] | undefined;
      if (!Array.isArray(entries) || entries.length === 0) throw new FormatError(file, 'a per-layer set needs a "layers" list');
      const saes = entries.map((e, i) => {
        if (e.layer !== i) throw new FormatError(file, `layers must be listed 0, 1, 2 ... (entry ${i} is layer ${e.layer})`);
        return loadSae(path.join(dir, e.path));
      });
      return TranscoderSet.fromSaes(saes, info);
    }
    if (m.kind === 'clt') {
      const n = m.n_layers as number;
      const D = m.d_model as number;
      const k = m.k as number;
      if (!Number.isInteger(n) || n < 1 || !Number.isInteger(D) || D < 1 || !Number.isInteger(k) || k < 1) {
        throw new FormatError(file, 'a CLT needs integer n_layers, d_model and k');
      }
      const wfile = path.join(dir, typeof m.weights === 'string' ? m.weights : CLT_WEIGHTS_FILE);
      if (!fs.existsSync(wfile)) throw new InputError(`${dir}: ${MANIFEST_FILE} names a CLT but ${path.basename(wfile)} is missing`);
      const { tensors } = readSafetensors(wfile);
      const get = (name: string, shape: number[]): Float32Array => {
        const t = tensors.get(name);
        if (!t) throw new FormatError(wfile, `missing tensor ${name}`);
        if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
          throw new FormatError(wfile, `tensor ${name} is [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
        }
        return t.data;
      };
      const W_enc: Float32Array[] = [];
      const b_enc: Float32Array[] = [];
      const W_dec: Float32Array[] = [];
      const b_dec: Float32Array[] = [];
      for (let L = 0; L < n; L++) {
        const F = tensors.get(`b_enc_${L}`)?.shape[0];
        if (F === undefined) throw new FormatError(wfile, `missing tensor b_enc_${L}`);
        W_enc.push(get(`W_enc_${L}`, [F, D]));
        b_enc.push(get(`b_enc_${L}`, [F]));
        W_dec.push(get(`W_dec_${L}`, [F, n - L, D]));
        b_dec.push(get(`b_dec_${L}`, [D]));
      }
      return TranscoderSet.clt({ dModel: D, k, site, W_enc, b_enc, W_dec, b_dec, info });
    }
    throw new FormatError(file, `kind must be "per-layer" or "clt", found ${JSON.stringify(m.kind)}`);
  }
}

/** TopK (relu'd) latents of rows x_ND under W_enc_FD, b_enc_F, zeros dropped, descending value per row. */
export function topkEncode(x_ND: Float32Array, n: number, W_enc_FD: Float32Array, b_enc_F: Float32Array, F: number, D: number, k: number): SparseLatents {
  const pre = new Float32Array(n * F);
  gemm(x_ND, W_enc_FD, pre, n, D, F, false, true);
  return topkSparse(pre, b_enc_F, n, F, k);
}
