// Where patching swaps activations. Each site kind names one hook per layer and an axis along which it is
// patched one slice at a time:
//   resid_pre, resid_mid, resid_post, attn_out, mlp_out   blocks.L.hook_*, per [layer][position]
//   heads                                                 blocks.L.attn.hook_z, per [layer][head] (all positions)
//   final                                                 ln_final.hook_normalized, per [1][position]: the
//                                                         normalised final residual, where logits (and so the
//                                                         metrics' linear parts) are linear in the activation
import { InputError } from '../errors.js';
import type { ModelConfig } from '../model/index.js';

export type SiteKind = 'resid_pre' | 'resid_mid' | 'resid_post' | 'attn_out' | 'mlp_out' | 'heads' | 'final';
export const SITE_KINDS: readonly SiteKind[] = ['resid_pre', 'resid_mid', 'resid_post', 'attn_out', 'mlp_out', 'heads', 'final'];

export interface SiteGrid {
  kind: SiteKind;
  /** One hook per row of the grid. */
  hooks: string[];
  /** The second axis: positions of the prompt, or heads. */
  axis: 'position' | 'head';
  /** Grid width: the prompt length, or the number of heads. */
  width: number;
}

export function parseSites(text: string): SiteKind[] {
  const kinds = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (kinds.length === 0) throw new InputError(`--sites needs at least one of ${SITE_KINDS.join(', ')}`);
  for (const k of kinds) if (!(SITE_KINDS as readonly string[]).includes(k)) throw new InputError(`unknown site "${k}" (sites: ${SITE_KINDS.join(', ')})`);
  return [...new Set(kinds)] as SiteKind[];
}

export function siteGrid(kind: SiteKind, c: ModelConfig, promptLength: number): SiteGrid {
  const layers = Array.from({ length: c.nLayers }, (_, i) => i);
  switch (kind) {
    case 'heads':
      return { kind, hooks: layers.map((l) => `blocks.${l}.attn.hook_z`), axis: 'head', width: c.nHeads };
    case 'final':
      return { kind, hooks: ['ln_final.hook_normalized'], axis: 'position', width: promptLength };
    case 'mlp_out':
    case 'resid_mid':
      if (c.attnOnly) throw new InputError(`site ${kind}: this model has no MLPs (attention-only)`);
      if (kind === 'resid_mid' && c.parallelAttnMlp) throw new InputError('site resid_mid: this model runs attention and MLP in parallel, so there is no resid_mid');
      return { kind, hooks: layers.map((l) => `blocks.${l}.hook_${kind}`), axis: 'position', width: promptLength };
    default:
      return { kind, hooks: layers.map((l) => `blocks.${l}.hook_${kind}`), axis: 'position', width: promptLength };
  }
}

/**
 * Offsets of the slice (layer's activation, index) within one batch row of an activation whose shape is
 * [batch, pos, ...]: a position slice is the whole row at that position; a head slice is head h's
 * d_head values at every position of hook_z [batch, pos, head, d_head].
 */
export function sliceRuns(axis: 'position' | 'head', index: number, shape: readonly number[]): { start: number; length: number }[] {
  const Tn = shape[1]!;
  const perPos = shape.slice(2).reduce((a, b) => a * b, 1);
  if (axis === 'position') return [{ start: index * perPos, length: perPos }];
  const dh = shape[3]!;
  return Array.from({ length: Tn }, (_, t) => ({ start: t * perPos + index * dh, length: dh }));
}
