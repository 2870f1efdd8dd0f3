// The SAELens on-disk layout: a directory with cfg.json and sae_weights.safetensors holding
//   W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_out], b_dec [d_out],
//   threshold [d_sae] (JumpReLU, BatchTopK), W_skip [d_out, d_in] (skip transcoders, as SAELens and
//   circuit-tracer store it: output += x @ W_skip^T);
//   Gated SAEs (SAELens' "gated") hold b_gate, r_mag, b_mag [d_sae] and no b_enc.
// cfg.json always names the architecture; loading refuses a missing or unknown one rather than guess
// (silently reading a JumpReLU as a ReLU gives plausible but wrong latents). SAELens' own names are used
// where it has one and map explicitly on load: "standard" is our "relu" (or "topk" when its
// activation_fn_str says so), "transcoder" and "skip_transcoder" are ReLU transcoders.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FormatError, InputError } from '../errors.js';
import { readSafetensors, writeSafetensors, type TensorToWrite } from '../io/safetensors.js';
import { Tensor } from '../tensor/index.js';
import { architectureNames, getArchitecture } from './architectures/index.js';
import { defaultConfig, type NormalizeActivations, type SaeConfig } from './config.js';
import { paramShapes, Sae, type SaeParams } from './sae.js';

export const CFG_FILE = 'cfg.json';
export const WEIGHTS_FILE = 'sae_weights.safetensors';
export const SPARSITY_FILE = 'sparsity.safetensors';

/**
 * SAELens' names for the architectures it has: a ReLU SAE is its "standard", ReLU transcoders are its
 * "transcoder" / "skip_transcoder". The others are written under Loupe's own (registered) names, which
 * for topk, batchtopk, jumprelu and gated are SAELens v6's names too.
 */
export function saelensArchitectureName(architecture: string, skip: boolean): string {
  if (architecture === 'relu') return 'standard';
  if (architecture === 'transcoder-relu') return skip ? 'skip_transcoder' : 'transcoder';
  return architecture;
}

export interface SaveOptions {
  /** Extra cfg.json fields under "loupe" (training options, tokens, data ...). */
  info?: Record<string, unknown>;
  /** Extra fields under "metadata" (SAELens v6 keeps context_size, prepend_bos, dataset_path there). */
  metadata?: Record<string, unknown>;
  /** Per-latent log10 firing density, written as sparsity.safetensors (SAELens' "sparsity" tensor). */
  logDensity?: Float32Array;
}

/**
 * Write `sae` to `dir` in SAELens layout. Normalisation is folded into the weights first, so the files
 * read raw activations and cfg.json says normalize_activations "none" (as SAELens saves trained SAEs).
 */
export function saveSae(sae: Sae, dir: string, opts: SaveOptions = {}): void {
  const s = sae.folded();
  const c = s.cfg;
  fs.mkdirSync(dir, { recursive: true });
  const p = s.params;
  const tensors: Record<string, TensorToWrite> = {
    W_enc: f32(transpose(p.W_enc_FD.data, c.dSae, c.dIn), [c.dIn, c.dSae]),
    [s.arch.gated ? 'b_gate' : 'b_enc']: f32(p.b_enc_F.data, [c.dSae]),
    W_dec: f32(p.W_dec_FO.data, [c.dSae, c.dOut]),
    b_dec: f32(p.b_dec_O.data, [c.dOut]),
  };
  if (p.threshold_F) tensors.threshold = f32(p.threshold_F.data, [c.dSae]);
  if (p.r_mag_F) tensors.r_mag = f32(p.r_mag_F.data, [c.dSae]);
  if (p.b_mag_F) tensors.b_mag = f32(p.b_mag_F.data, [c.dSae]);
  if (p.W_skip_DO) tensors.W_skip = f32(transpose(p.W_skip_DO.data, c.dIn, c.dOut), [c.dOut, c.dIn]);
  writeSafetensors(path.join(dir, WEIGHTS_FILE), tensors, { format: 'pt' });
  if (opts.logDensity) writeSafetensors(path.join(dir, SPARSITY_FILE), { sparsity: f32(opts.logDensity, [c.dSae]) }, { format: 'pt' });
  const cfg: Record<string, unknown> = {
    architecture: saelensArchitectureName(c.architecture, c.skip),
    d_in: c.dIn,
    d_sae: c.dSae,
    ...(sae.isTranscoder ? { d_out: c.dOut, hook_name_out: c.hookNameOut } : {}),
    dtype: 'float32',
    device: 'cpu',
    apply_b_dec_to_input: c.applyBDecToInput,
    normalize_activations: c.normalizeActivations,
    hook_name: c.hookName,
    model_name: c.modelName,
    ...(c.k !== null ? { k: c.k } : {}),
    ...(sae.isTranscoder ? { skip: c.skip } : {}),
    metadata: { model_name: c.modelName, hook_name: c.hookName, ...(sae.isTranscoder ? { hook_name_out: c.hookNameOut } : {}), ...opts.metadata },
    loupe: { format_version: 1, ...opts.info },
  };
  writeTextAtomic(path.join(dir, CFG_FILE), JSON.stringify(cfg, null, 2) + '\n');
}

/** Read an SAE (or transcoder) saved in SAELens layout. */
export function loadSae(dir: string): Sae {
  const cfgPath = path.join(dir, CFG_FILE);
  const weightsPath = path.join(dir, WEIGHTS_FILE);
  if (!fs.existsSync(dir)) throw new InputError(`${dir}: no such SAE directory`, { path: dir });
  if (!fs.existsSync(cfgPath)) throw new InputError(`${dir}: not an SAE directory (no ${CFG_FILE}; expected SAELens layout: ${CFG_FILE} + ${WEIGHTS_FILE})`, { path: dir });
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
  } catch (err) {
    throw new FormatError(cfgPath, `not valid JSON: ${(err as Error).message}`);
  }
  const cfg = parseSaeConfig(raw, cfgPath);
  if (!fs.existsSync(weightsPath)) throw new InputError(`${dir}: ${CFG_FILE} is there but ${WEIGHTS_FILE} is missing`, { path: dir });
  const { tensors } = readSafetensors(weightsPath);
  const arch = getArchitecture(cfg.architecture);
  const shapes = paramShapes(cfg, arch);
  const take = (name: string, want: number[] | null): Float32Array | null => {
    if (!want) return null;
    const t = tensors.get(name);
    if (!t) {
      const have = [...tensors.keys()].join(', ');
      throw new FormatError(weightsPath, `missing tensor "${name}" [${want.join(', ')}] that a ${cfg.architecture} with d_in ${cfg.dIn}, d_sae ${cfg.dSae} needs (file holds: ${have})`);
    }
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new FormatError(
        weightsPath,
        `tensor "${name}" is [${t.shape.join(', ')}] but ${CFG_FILE} (d_in ${cfg.dIn}, d_sae ${cfg.dSae}${cfg.dOut !== cfg.dIn ? `, d_out ${cfg.dOut}` : ''}) needs [${want.join(', ')}]`,
      );
    }
    return t.data;
  };
  const { dIn: D, dSae: F, dOut: O } = cfg;
  const W_enc = take('W_enc', [D, F])!;
  // A JumpReLU saved with log thresholds (some exports) is converted explicitly, never guessed at.
  let threshold: Float32Array | null = null;
  if (shapes.threshold_F) {
    if (!tensors.has('threshold') && tensors.has('log_threshold')) threshold = take('log_threshold', [F])!.map(Math.exp);
    else threshold = take('threshold', [F]);
  }
  const skip = shapes.W_skip_DO ? take('W_skip', [O, D])! : null;
  const vector = (name: string, want: number[] | null): Tensor | null => (want ? new Tensor(take(name, want)!, want) : null);
  const params: SaeParams = {
    W_enc_FD: new Tensor(transpose(W_enc, D, F), [F, D]),
    b_enc_F: new Tensor(take(arch.gated ? 'b_gate' : 'b_enc', [F])!, [F]),
    W_dec_FO: new Tensor(take('W_dec', [F, O])!, [F, O]),
    b_dec_O: new Tensor(take('b_dec', [O])!, [O]),
    threshold_F: threshold ? new Tensor(threshold, [F]) : null,
    W_skip_DO: skip ? new Tensor(transpose(skip, O, D), [D, O]) : null,
    r_mag_F: vector('r_mag', shapes.r_mag_F),
    b_mag_F: vector('b_mag', shapes.b_mag_F),
  };
  return new Sae(cfg, params);
}

/** cfg.json (SAELens v3-v6, or Loupe's) -> SaeConfig, strictly. */
export function parseSaeConfig(raw: unknown, where: string): SaeConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new FormatError(where, 'expected a JSON object');
  const c = raw as Record<string, unknown>;
  const meta = (typeof c.metadata === 'object' && c.metadata !== null ? c.metadata : {}) as Record<string, unknown>;
  const loupe = (typeof c.loupe === 'object' && c.loupe !== null ? c.loupe : {}) as Record<string, unknown>;
  if (c.architecture === undefined) {
    throw new FormatError(where, `names no "architecture"; refusing to guess one (known: ${architectureNames().join(', ')}). Add the field, e.g. "architecture": "topk"`);
  }
  if (typeof c.architecture !== 'string') throw new FormatError(where, `"architecture" must be a string, found ${JSON.stringify(c.architecture)}`);
  let architecture = c.architecture;
  let skip = c.skip === true;
  const activationFn = c.activation_fn_str ?? c.activation_fn;
  const fnKwargs = (typeof c.activation_fn_kwargs === 'object' && c.activation_fn_kwargs !== null ? c.activation_fn_kwargs : {}) as Record<string, unknown>;
  if (architecture === 'standard') architecture = activationFn === 'topk' ? 'topk' : 'relu';
  else if (architecture === 'transcoder') architecture = 'transcoder-relu';
  else if (architecture === 'skip_transcoder') {
    architecture = 'transcoder-relu';
    skip = true;
  } else if (architecture === 'jumprelu_transcoder') {
    throw new FormatError(where, `architecture "${architecture}" is not supported yet (supported: ${architectureNames().join(', ')})`);
  }
  let arch;
  try {
    arch = getArchitecture(architecture);
  } catch (err) {
    throw new FormatError(where, (err as Error).message);
  }
  const int = (name: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new FormatError(where, `"${name}" must be a positive integer, found ${JSON.stringify(v)}`);
    return v;
  };
  const dIn = int('d_in', c.d_in);
  const dSae = int('d_sae', c.d_sae);
  const dOut = c.d_out === undefined ? dIn : int('d_out', c.d_out);
  const kRaw = c.k ?? fnKwargs.k;
  if (arch.usesK && kRaw === undefined) throw new FormatError(where, `architecture "${architecture}" needs "k" (active latents per token), and cfg.json has none`);
  const k = arch.usesK ? int('k', kRaw) : null;
  const norm = (c.normalize_activations ?? 'none') as string;
  let normalizeActivations: NormalizeActivations;
  let scalingFactor = 1;
  if (norm === 'none') normalizeActivations = 'none';
  else if (norm === 'expected_average_only_in') {
    const s = c.scaling_factor ?? loupe.scaling_factor;
    if (typeof s !== 'number' || !(s > 0)) {
      throw new FormatError(where, 'normalize_activations is "expected_average_only_in" but no scaling_factor is recorded (SAELens folds it into the weights when it saves; re-save with it folded)');
    }
    normalizeActivations = norm;
    scalingFactor = s;
  } else {
    throw new FormatError(where, `normalize_activations "${norm}" is not supported (supported: none, expected_average_only_in)`);
  }
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const hookNameOut = str(c.hook_name_out ?? meta.hook_name_out) || null;
  const cfg = defaultConfig({
    architecture,
    dIn,
    dSae,
    dOut,
    k,
    hookName: str(c.hook_name ?? meta.hook_name),
    hookNameOut: arch.transcoder ? hookNameOut : null,
    modelName: str(c.model_name ?? meta.model_name),
    applyBDecToInput: typeof c.apply_b_dec_to_input === 'boolean' ? c.apply_b_dec_to_input : !arch.transcoder,
    skip,
    normalizeActivations,
    scalingFactor,
    scalingFactorOut: typeof loupe.scaling_factor_out === 'number' ? loupe.scaling_factor_out : scalingFactor,
  });
  try {
    arch.check(cfg, where);
  } catch (err) {
    throw new FormatError(where, (err as Error).message);
  }
  return cfg;
}

function f32(data: Float32Array, shape: number[]): TensorToWrite {
  return { dtype: 'F32', shape, data };
}

/** [rows, cols] -> [cols, rows]. */
export function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

function writeTextAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** cfg.json's "metadata" and "loupe" blocks (dataset, split, context size, training options), if any. */
export function readSaeInfo(dir: string): { metadata: Record<string, unknown>; loupe: Record<string, unknown> } {
  try {
    const c = JSON.parse(fs.readFileSync(path.join(dir, CFG_FILE), 'utf8')) as Record<string, unknown>;
    const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
    return { metadata: obj(c.metadata), loupe: obj(c.loupe) };
  } catch {
    return { metadata: {}, loupe: {} };
  }
}
