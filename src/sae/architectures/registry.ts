// Architectures by name. Each lives in its own file and registers itself here; a cfg.json must name one
// exactly (an unknown or missing name is an error, never a guess).
import { InputError, closestNames } from '../../errors.js';
import type { Tensor } from '../../tensor/index.js';
import type { SaeConfig } from '../config.js';
import type { SparseLatents } from '../kernels.js';
import type { Sae } from '../sae.js';
import type { RuleOptions, TrainingRule } from '../train-step.js';

export interface Architecture {
  readonly name: string;
  /** One line for --help and error messages. */
  readonly summary: string;
  /** Reads one hook and predicts another (true) or reconstructs its input (false). */
  readonly transcoder: boolean;
  /** The weights include a per-latent threshold. */
  readonly hasThreshold: boolean;
  /** The weights include Gated's magnitude path (r_mag, b_mag); b_enc is the gate's bias. */
  readonly gated?: boolean;
  /** The config needs k. */
  readonly usesK: boolean;
  /** The sparsity penalty training adds: L1 (weighted by decoder norms), L0 (straight-through, with a bandwidth), or none (k fixes L0). */
  readonly penalty: 'l1' | 'l0' | null;
  /** How training keeps decoder rows in check: unit norm, or the sparsity penalty weighted by their norms. */
  readonly decoderNorm: 'unit' | 'weighted';
  /** Architecture-specific config checks (k in range ...). */
  check(cfg: SaeConfig, where: string): void;
  /** Inference nonlinearity: pre-activations [..., d_sae] (b_enc included) -> latents; differentiable in pre. */
  activate(pre: Tensor, sae: Sae): Tensor;
  /** Optional fast path from raw pre-activations [n, d_sae] to compressed rows. */
  activateSparse?(pre_NF: Float32Array, n: number, sae: Sae): SparseLatents;
  /** The per-architecture part of a training step (train-step.ts runs the shared part). */
  trainingRule(sae: Sae, opts: RuleOptions): TrainingRule;
}

const registry = new Map<string, Architecture>();

export function registerArchitecture(arch: Architecture): void {
  if (registry.has(arch.name)) throw new InputError(`architecture "${arch.name}" is registered twice`);
  registry.set(arch.name, arch);
}

export function getArchitecture(name: string): Architecture {
  const a = registry.get(name);
  if (a) return a;
  const near = closestNames(String(name), registry.keys(), 3);
  throw new InputError(`unknown SAE architecture ${JSON.stringify(name)} (known: ${[...registry.keys()].join(', ')}; closest: ${near.join(', ')})`, {
    architecture: name,
    known: [...registry.keys()],
  });
}

export function architectureNames(): string[] {
  return [...registry.keys()];
}

/** Shared check for the TopK family. */
export function checkK(cfg: SaeConfig, where: string): void {
  if (cfg.k === null || !Number.isInteger(cfg.k) || cfg.k < 1 || cfg.k > cfg.dSae) {
    throw new InputError(`${where}: architecture "${cfg.architecture}" needs an integer k in [1, d_sae = ${cfg.dSae}], got ${cfg.k}`, { k: cfg.k });
  }
}

/** Shared check: transcoders name an output hook, SAEs do not. */
export function checkHooks(cfg: SaeConfig, transcoder: boolean, where: string): void {
  if (transcoder && cfg.applyBDecToInput) throw new InputError(`${where}: a transcoder does not subtract b_dec from its input (apply_b_dec_to_input must be false)`);
  if (!transcoder && cfg.skip) throw new InputError(`${where}: only transcoders have a skip connection`);
  if (!transcoder && cfg.dOut !== cfg.dIn) throw new InputError(`${where}: an SAE reconstructs its input, so d_out must equal d_in (${cfg.dIn}), got ${cfg.dOut}`);
}
