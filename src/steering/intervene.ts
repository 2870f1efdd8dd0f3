// The arithmetic of one steered activation row, for every mode at once:
//   add     h += strength * a            (a: W_dec[f], or the raw vector)
//   clamp   value(h') = target exactly   (h' = h + c w, w: W_dec[f] or the unit vector)
//   cap     value(h') <= target          (moved only where the value exceeds it)
//   ablate  value(h') = 0                (features: only where they fire; vectors: the projection removed)
// Adds go first. Then every pinned direction (clamps, and caps / ablations that are over their limit)
// moves together: the steps c solve M c = target - value(h) with M[i][j] = read_i . write_j, so pinning
// one feature does not undo another (their encoder rows and decoder rows overlap). A cap pushed over its
// limit by the others' steps joins the pinned set and the system is solved again.
import { InputError } from '../errors.js';
import { readRaw, type SteeringDirection } from './direction.js';

export type SteeringMode = 'add' | 'clamp' | 'cap' | 'ablate';
export const STEERING_MODES: readonly SteeringMode[] = ['add', 'clamp', 'cap', 'ablate'];

export interface Intervention {
  direction: SteeringDirection;
  mode: SteeringMode;
  /** add: the strength (activation units along the add vector); clamp / cap: the target value; ablate: unused. */
  amount: number;
}

/** Checks that the interventions make sense before any run. */
export function checkInterventions(list: readonly Intervention[]): void {
  if (list.length === 0) throw new InputError('nothing to steer: give at least one intervention (a feature or a vector)');
  for (const iv of list) {
    if (!STEERING_MODES.includes(iv.mode)) throw new InputError(`unknown steering mode "${iv.mode}" (modes: ${STEERING_MODES.join(', ')})`);
    if (iv.mode !== 'ablate' && !Number.isFinite(iv.amount)) throw new InputError(`${iv.direction.label}: ${iv.mode} needs a finite ${iv.mode === 'add' ? 'strength' : 'value'}, got ${iv.amount}`);
    if ((iv.mode === 'clamp' || iv.mode === 'cap') && iv.direction.rectified && iv.amount < 0) {
      throw new InputError(`${iv.direction.label}: a feature's value is never negative, so ${iv.mode} needs a value >= 0 (got ${iv.amount}); to remove it, use --mode ablate`);
    }
    if (iv.mode !== 'add' && iv.direction.addRows.length > 1) {
      throw new InputError(`${iv.direction.label}: a position-aligned vector can only be added; for ${iv.mode}, build the vector with aggregate "mean" or "last"`);
    }
    if (iv.mode !== 'add') {
      const self = dot(iv.direction.read, iv.direction.write);
      if (!(Math.abs(self) > 1e-8)) {
        throw new InputError(`${iv.direction.label}: its encoder row is orthogonal to its decoder row (W_enc . W_dec = ${self}), so no step along the decoder changes its value; use --mode add`);
      }
    }
  }
  const pinned = list.filter((iv) => iv.mode !== 'add');
  for (let i = 0; i < pinned.length; i++)
    for (let j = i + 1; j < pinned.length; j++) {
      const a = pinned[i]!.direction;
      const b = pinned[j]!.direction;
      if (a.hook === b.hook && a.feature !== null && a.feature === b.feature && a.sae === b.sae) throw new InputError(`${a.label} is given twice with ${pinned[i]!.mode} and ${pinned[j]!.mode}; give each feature once`);
    }
}

/**
 * Steers one row in place (float64 work copy of the activation at one position). position: the
 * absolute position (selects the row of a position-aligned vector).
 */
export function steerRow(h: Float64Array, list: readonly Intervention[], position: number): void {
  for (const iv of list) {
    if (iv.mode !== 'add') continue;
    const rows = iv.direction.addRows;
    if (rows.length > 1 && position >= rows.length) continue; // aligned vectors cover positions 0..T-1 only
    const a = rows.length > 1 ? rows[position]! : rows[0]!;
    for (let j = 0; j < h.length; j++) h[j] = h[j]! + iv.amount * a[j]!;
  }
  const limits = list.filter((iv) => iv.mode !== 'add');
  if (limits.length === 0) return;
  const base = h.slice();
  const target = limits.map((iv) => (iv.mode === 'ablate' ? 0 : iv.amount));
  // Which limits bind: clamps always; caps and feature ablations when over their limit; a vector
  // ablation always (its projection is set to 0 from either side).
  const binds = (iv: Intervention, t: number, row: Float64Array): boolean =>
    iv.mode === 'clamp' || (iv.mode === 'ablate' && !iv.direction.rectified) || readRaw(iv.direction, row) > t;
  const active = new Set<number>();
  limits.forEach((iv, i) => binds(iv, target[i]!, base) && active.add(i));
  for (let round = 0; round <= limits.length; round++) {
    h.set(base);
    if (active.size === 0) return;
    const idx = [...active];
    const M = idx.map((i) => idx.map((j) => dot(limits[i]!.direction.read, limits[j]!.direction.write)));
    const r = idx.map((i) => target[i]! - readRaw(limits[i]!.direction, base));
    const c = solve(M, r, () => idx.map((i) => limits[i]!.direction.label));
    idx.forEach((j, k) => {
      const w = limits[j]!.direction.write;
      for (let d = 0; d < h.length; d++) h[d] = h[d]! + c[k]! * w[d]!;
    });
    let grew = false;
    limits.forEach((iv, i) => {
      if (!active.has(i) && binds(iv, target[i]!, h) && readRaw(iv.direction, h) > target[i]! + 1e-9 * (1 + Math.abs(target[i]!))) {
        active.add(i);
        grew = true;
      }
    });
    if (!grew) return;
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j]! * b[j]!;
  return s;
}

/** Solves M x = r (Gaussian elimination with partial pivoting); a singular system is an input problem. */
export function solve(Min: number[][], rin: number[], labels: () => string[]): number[] {
  const n = rin.length;
  const M = Min.map((row) => row.slice());
  const r = rin.slice();
  const scale = Math.max(1e-300, ...M.flat().map(Math.abs));
  for (let col = 0; col < n; col++) {
    let p = col;
    for (let i = col + 1; i < n; i++) if (Math.abs(M[i]![col]!) > Math.abs(M[p]![col]!)) p = i;
    if (Math.abs(M[p]![col]!) < 1e-10 * scale) {
      throw new InputError(`the pinned directions (${labels().join(', ')}) are linearly dependent through their encoder and decoder rows, so their values cannot be set independently; pin fewer of them`);
    }
    [M[col], M[p]] = [M[p]!, M[col]!];
    [r[col], r[p]] = [r[p]!, r[col]!];
    for (let i = col + 1; i < n; i++) {
      const f = M[i]![col]! / M[col]![col]!;
      if (f === 0) continue;
      for (let j = col; j < n; j++) M[i]![j] = M[i]![j]! - f * M[col]![j]!;
      r[i] = r[i]! - f * r[col]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = r[i]!;
    for (let j = i + 1; j < n; j++) s -= M[i]![j]! * x[j]!;
    x[i] = s / M[i]![i]!;
  }
  return x;
}
