// What an SAE (or transcoder) is, independent of its weights: the architecture by name, its sizes, where in
// the model it reads and writes, and how inputs are scaled. Saved as SAELens' cfg.json (see format.ts).
import { InputError } from '../errors.js';

/**
 * How activations are scaled before encoding (SAELens' vocabulary):
 * - 'none': raw activations (a trained SAE's scale factor is folded into its weights when saved);
 * - 'expected_average_only_in': multiply by `scalingFactor` (chosen so E||x|| = sqrt(d_in)) on the way
 *   in, divide the reconstruction by `scalingFactorOut` on the way out.
 * (SAELens' per-token 'constant_norm_rescale' is not supported: format.ts refuses it by name.)
 */
export type NormalizeActivations = 'none' | 'expected_average_only_in';
export const NORMALIZE_MODES: readonly NormalizeActivations[] = ['none', 'expected_average_only_in'];

export interface SaeConfig {
  /** Registered architecture name (architectures/registry.ts), always recorded explicitly. */
  architecture: string;
  /** Input width (the hook's last dimension). */
  dIn: number;
  /** Number of latents (dictionary size). */
  dSae: number;
  /** Output width: dIn for an SAE, the output hook's width for a transcoder. */
  dOut: number;
  /** Hook the dictionary reads (TransformerLens name). */
  hookName: string;
  /** Transcoders: the hook whose activation they predict (and replace when spliced); null for SAEs. */
  hookNameOut: string | null;
  modelName: string;
  /** Active latents per token for the TopK family; null otherwise. */
  k: number | null;
  /** Subtract b_dec from the input before encoding (SAEs; never for transcoders). */
  applyBDecToInput: boolean;
  /** Transcoders: a linear skip connection W_skip [d_in, d_out] added to the output. */
  skip: boolean;
  normalizeActivations: NormalizeActivations;
  /** 'expected_average_only_in': the input scale factor (the output's is scalingFactorOut). */
  scalingFactor: number;
  scalingFactorOut: number;
}

export function defaultConfig(partial: Partial<SaeConfig> & Pick<SaeConfig, 'architecture' | 'dIn' | 'dSae'>): SaeConfig {
  const transcoder = partial.architecture.startsWith('transcoder');
  return {
    dOut: partial.dIn,
    hookName: '',
    hookNameOut: null,
    modelName: '',
    k: null,
    applyBDecToInput: !transcoder,
    skip: false,
    normalizeActivations: 'none',
    scalingFactor: 1,
    scalingFactorOut: 1,
    ...partial,
  };
}

/** Checks the numbers every architecture needs; the architecture checks the rest (e.g. k). */
export function checkConfig(cfg: SaeConfig, where = 'SAE config'): void {
  for (const key of ['dIn', 'dSae', 'dOut'] as const) {
    const v = cfg[key];
    if (!Number.isInteger(v) || v < 1) throw new InputError(`${where}: ${key} must be a positive integer, got ${v}`, { key, value: v });
  }
  if (!NORMALIZE_MODES.includes(cfg.normalizeActivations)) {
    throw new InputError(`${where}: normalize_activations must be one of ${NORMALIZE_MODES.join(', ')}, got ${JSON.stringify(cfg.normalizeActivations)}`);
  }
  for (const key of ['scalingFactor', 'scalingFactorOut'] as const) {
    if (!(cfg[key] > 0) || !Number.isFinite(cfg[key])) throw new InputError(`${where}: ${key} must be a positive number, got ${cfg[key]}`);
  }
  if (cfg.applyBDecToInput && cfg.dIn !== cfg.dOut) {
    throw new InputError(`${where}: apply_b_dec_to_input needs d_in = d_out, got ${cfg.dIn} and ${cfg.dOut}`);
  }
}
