// Steering as forward hooks: at each hook point named by the interventions, every selected position's
// activation row is steered (intervene.ts), and what the steered activation holds is re-read on the spot
// (each direction's value, and for features the dictionary's own latent), so a caller can check that a
// clamp really pinned the value. Works for whole sequences and for KV-cached decoding (ctx.offset, or
// ctx.rowOffsets per sequence in batched generation, gives the absolute position of each new token).
import { InputError } from '../errors.js';
import type { ForwardHook, HookContext } from '../model/hooks.js';
import { Tensor } from '../tensor/index.js';
import { checkWidth, readValue } from './direction.js';
import { checkInterventions, steerRow, type Intervention } from './intervene.js';

/** Which positions are steered: all, the prompt's, or the tokens the model generated (fed back as input). */
export type PositionSelection = 'all' | 'prompt' | 'generated';
export const POSITION_SELECTIONS: readonly PositionSelection[] = ['all', 'prompt', 'generated'];

export interface SteeredPosition {
  /** Row of the batch. */
  batch: number;
  /** Absolute position in the sequence. */
  position: number;
  hook: string;
  /** Indices (into the interventions list) of the directions read here, in order. */
  interventions: number[];
  /** Each direction's value after steering (features: the rectified encoder value). */
  values: number[];
  /** Features: the dictionary's latent for the feature after steering (TopK competition included); null for vectors. */
  latents: (number | null)[];
}

export interface SteeringHookOptions {
  positions?: PositionSelection;
  /** Tokens in the prompt (positions < promptLength are the prompt); needed for 'prompt' and 'generated'. */
  promptLength?: number;
  /** Positions holding this token are left alone unless steerBos (default 1, llama2.c's BOS). */
  bosId?: number | null;
  /** Steer BOS positions too (default false: BOS is an attention sink whose activation other tokens read). */
  steerBos?: boolean;
  /** Called for every steered position, after steering. */
  onSteered?: (p: SteeredPosition) => void;
}

/** Forward hooks applying the interventions (pass to run({hooks}), generate({hooks}) or model.withHooks). */
export function steeringHooks(list: readonly Intervention[], opts: SteeringHookOptions = {}): ForwardHook[] {
  checkInterventions(list);
  const sel = opts.positions ?? 'all';
  if (!(['all', 'prompt', 'generated'] as const).includes(sel)) throw new InputError(`positions must be one of all, prompt, generated; got "${sel}"`);
  if (sel !== 'all' && !(Number.isInteger(opts.promptLength) && opts.promptLength! >= 1)) {
    throw new InputError(`steering only ${sel} positions needs the prompt length (promptLength >= 1)`);
  }
  const bos = opts.steerBos ? null : opts.bosId === undefined ? 1 : opts.bosId;
  const byHook = new Map<string, number[]>();
  list.forEach((iv, i) => {
    const l = byHook.get(iv.direction.hook) ?? [];
    l.push(i);
    byHook.set(iv.direction.hook, l);
  });
  const selected = (pos: number): boolean => sel === 'all' || (sel === 'prompt' ? pos < opts.promptLength! : pos >= opts.promptLength!);
  return [...byHook].map(([hook, indices]) => ({
    name: hook,
    fn: (x: Tensor, ctx: HookContext) => steerActivation(x, ctx, list, indices, selected, bos, opts.onSteered),
  }));
}

function steerActivation(
  x: Tensor,
  ctx: HookContext,
  list: readonly Intervention[],
  indices: number[],
  selected: (pos: number) => boolean,
  bos: number | null,
  onSteered: SteeringHookOptions['onSteered'],
): Tensor {
  const { batch } = ctx;
  const [B, Tn] = x.shape as [number, number];
  // The unembed hook of a last-logits-only run holds one row per sequence: its last real position.
  const lastOnly = Tn === 1 && batch.maxLen > 1;
  if (B !== batch.batch || (Tn !== batch.maxLen && !lastOnly)) throw new InputError(`steering at ${ctx.name}: expected a [batch, pos, ...] activation, got [${x.shape.join(', ')}]`);
  const width = x.size / (B * Tn);
  const mine = indices.map((i) => list[i]!);
  for (const iv of mine) checkWidth(iv.direction, width);
  const out = x.data.slice();
  const row = new Float64Array(width);
  const steered: { b: number; pos: number; offset: number }[] = [];
  for (let b = 0; b < B; b++)
    for (let r = 0; r < (lastOnly ? 1 : batch.lengths[b]!); r++) {
      const t = lastOnly ? batch.lengths[b]! - 1 : r;
      const pos = (ctx.rowOffsets ? ctx.rowOffsets[b]! : ctx.offset) + t;
      if (!selected(pos) || (bos !== null && batch.ids[b * batch.maxLen + t] === bos)) continue;
      const o = (b * Tn + r) * width;
      for (let j = 0; j < width; j++) row[j] = out[o + j]!;
      steerRow(row, mine, pos);
      for (let j = 0; j < width; j++) out[o + j] = row[j]!;
      steered.push({ b, pos, offset: o });
    }
  if (onSteered && steered.length) report(out, width, steered, ctx.name, list, indices, onSteered);
  return new Tensor(out, x.shape);
}

/** Re-reads each steered row: direction values, and each feature's latent from the dictionary's own encoding. */
function report(out: Float32Array, width: number, steered: { b: number; pos: number; offset: number }[], hook: string, list: readonly Intervention[], indices: number[], onSteered: NonNullable<SteeringHookOptions['onSteered']>): void {
  // One sparse encoding of all steered rows per dictionary.
  const latentOf = new Map<number, (r: number) => number>();
  const saes = new Set(indices.map((i) => list[i]!.direction.sae).filter((s) => s !== null));
  for (const sae of saes) {
    const rows = new Float32Array(steered.length * width);
    steered.forEach((s, r) => rows.set(out.subarray(s.offset, s.offset + width), r * width));
    const sp = sae!.encodeSparse(rows, steered.length);
    for (const i of indices) {
      const d = list[i]!.direction;
      if (d.sae !== sae) continue;
      latentOf.set(i, (r) => {
        for (let e = sp.rowPtr[r]!; e < sp.rowPtr[r + 1]!; e++) if (sp.idx[e] === d.feature) return sp.val[e]!;
        return 0;
      });
    }
  }
  steered.forEach((s, r) => {
    onSteered({
      batch: s.b,
      position: s.pos,
      hook,
      interventions: indices,
      values: indices.map((i) => readValue(list[i]!.direction, out, s.offset)),
      latents: indices.map((i) => latentOf.get(i)?.(r) ?? null),
    });
  });
}
