// Reverse-mode autodiff on a tape. Each op records its inputs and a backward closure that maps the
// gradient of its output to gradients of its inputs (raw Float32Arrays: first-order only, which is
// what attribution, patching and training need). backward() walks the tape in reverse creation order.
import { NonFiniteError, ShapeError } from '../errors.js';
import { Tensor, type Shape } from './tensor.js';

export interface GradFn {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Gradient of the output -> gradient per input (null where an input needs none). */
  backward(gradOut: Float32Array): (Float32Array | null)[];
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run `fn` without recording the tape (inference, evaluation, optimizer steps). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Run `fn` with recording forced on (e.g. inside a caller's noGrad). */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Make an op's output. The backward closure is attached only when recording is on and some input
 * wants a gradient, so inference pays nothing for the tape.
 */
export function result(
  data: Float32Array,
  shape: Shape,
  op: string,
  inputs: readonly Tensor[],
  backward: (gradOut: Float32Array) => (Float32Array | null)[],
): Tensor {
  const out = new Tensor(data, shape);
  if (gradEnabled) {
    for (const t of inputs) {
      if (t.requiresGrad) {
        out.requiresGrad = true;
        out.gradFn = { op, inputs, backward };
        break;
      }
    }
  }
  return out;
}

export interface BackwardOptions {
  /** Raise NonFiniteError when a gradient becomes NaN or infinite (default true). */
  checkFinite?: boolean;
}

/** Order the tape: every tensor reachable from the roots through gradFn, in creation order. */
function collectTape(roots: readonly Tensor[]): Tensor[] {
  const seen = new Set<Tensor>();
  const stack: Tensor[] = [...roots];
  const nodes: Tensor[] = [];
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    nodes.push(t);
    if (t.gradFn) for (const i of t.gradFn.inputs) if (i.requiresGrad && !seen.has(i)) stack.push(i);
  }
  // A tensor is always created after its inputs, so descending id is a valid reverse topological order.
  nodes.sort((a, b) => b.id - a.id);
  return nodes;
}

function run(roots: readonly Tensor[], seeds: readonly Float32Array[], opts: BackwardOptions, wanted: Set<Tensor> | null): Map<Tensor, Float32Array> {
  const checkFinite = opts.checkFinite ?? true;
  const grads = new Map<Tensor, Float32Array>();
  roots.forEach((r, i) => {
    const seed = seeds[i]!;
    if (checkFinite && !allFinite(seed)) throw new NonFiniteError('backward', `the output gradient [${r.shape.join(',')}] contains NaN or infinity`);
    accumulate(grads, r, seed, checkFinite);
  });
  const tape = collectTape(roots);
  // grad() needs nothing below its lowest wanted tensor: every gradient reaching a tensor comes from
  // tensors created after it, so once the walk passes the lowest id it can stop.
  let lowestWanted = -1;
  if (wanted) {
    lowestWanted = Infinity;
    for (const w of wanted) lowestWanted = Math.min(lowestWanted, w.id);
  }
  const finished = new Map<Tensor, Float32Array>();
  for (const t of tape) {
    if (t.id < lowestWanted) break;
    let g = grads.get(t);
    if (!g) continue;
    grads.delete(t);
    if (t.gradHooks) {
      for (const hook of t.gradHooks) {
        const replaced = hook(g, t);
        if (replaced) {
          if (replaced.length !== g.length) throw new ShapeError('gradient hook', `returned ${replaced.length} values for a tensor of ${g.length}`, [t.shape]);
          if (checkFinite && !allFinite(replaced)) throw new NonFiniteError('gradient hook', `returned NaN or infinity for a tensor [${t.shape.join(',')}]`);
          g = replaced;
        }
      }
    }
    if (wanted ? wanted.has(t) : !t.gradFn || t.retainsGrad) finished.set(t, g);
    if (!t.gradFn) continue;
    const { op, inputs } = t.gradFn;
    const inputGrads = t.gradFn.backward(g);
    inputs.forEach((input, i) => {
      const ig = inputGrads[i];
      if (!ig || !input.requiresGrad) return;
      // Checked here, where the op that produced the bad value is known.
      if (checkFinite && !allFinite(ig)) {
        throw new NonFiniteError(`backward of ${op}`, `the gradient of input ${i} [${input.shape.join(',')}] contains NaN or infinity`);
      }
      accumulate(grads, input, ig, checkFinite);
    });
  }
  return finished;
}

function accumulate(grads: Map<Tensor, Float32Array>, t: Tensor, g: Float32Array, checkFinite: boolean): void {
  if (g.length !== t.size) throw new ShapeError('backward', `gradient has ${g.length} values for a tensor of ${t.size}`, [t.shape]);
  const prev = grads.get(t);
  if (!prev) {
    grads.set(t, g);
    return;
  }
  // Never mutate an array an op handed us: it may alias another gradient (e.g. reshape passes through).
  const sum = new Float32Array(prev.length);
  for (let i = 0; i < sum.length; i++) sum[i] = prev[i]! + g[i]!;
  if (checkFinite && !allFinite(sum)) throw new NonFiniteError('backward', `the gradient of a tensor [${t.shape.join(',')}] overflowed while summing its uses`);
  grads.set(t, sum);
}

function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
}

/**
 * Backpropagate from `root` (a scalar unless `gradRoot` is given) and accumulate into `.grad` of
 * every leaf that requires grad and every tensor marked retainGrad().
 */
export function backward(root: Tensor, gradRoot?: Float32Array, opts: BackwardOptions = {}): void {
  if (!root.requiresGrad) throw new ShapeError('backward', 'the tensor does not depend on anything that requires a gradient', [root.shape]);
  const seed = gradRoot ?? seedFor(root);
  const finished = run([root], [seed], opts, null);
  for (const [t, g] of finished) {
    if (t.grad) {
      const acc = t.grad.data;
      for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + g[i]!;
    } else {
      // Always a private copy: gradient arrays are shared between tensors (add and reshape pass theirs
      // through), and .grad is accumulated into in place by later backward calls.
      t.grad = new Tensor(g.slice(), t.shape);
    }
  }
}

/**
 * Gradients of `outputs` with respect to `inputs` (any tensors on the tape, intermediate activations
 * included), without touching `.grad`. Inputs the outputs do not depend on get zeros.
 */
export function grad(outputs: Tensor | readonly Tensor[], inputs: readonly Tensor[], gradOutputs?: readonly Float32Array[], opts: BackwardOptions = {}): Float32Array[] {
  const outs = Array.isArray(outputs) ? (outputs as readonly Tensor[]) : [outputs as Tensor];
  const seeds = gradOutputs ?? outs.map(seedFor);
  const live = outs.filter((o) => o.requiresGrad);
  const finished = live.length ? run(live, outs.map((o, i) => (o.requiresGrad ? seeds[i]! : null)).filter((s): s is Float32Array => s !== null), opts, new Set(inputs)) : new Map();
  // Each returned array is the caller's own: copy any that is a seed or was already handed out
  // (add gives both operands the same array).
  const handedOut = new Set<Float32Array>(seeds);
  return inputs.map((t) => {
    const g = finished.get(t);
    if (!g) return new Float32Array(t.size);
    if (handedOut.has(g)) return g.slice();
    handedOut.add(g);
    return g;
  });
}

function seedFor(t: Tensor): Float32Array {
  if (t.size !== 1) throw new ShapeError('backward', 'needs a scalar output, or an explicit output gradient', [t.shape]);
  return Float32Array.of(1);
}
