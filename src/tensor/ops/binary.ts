// Broadcasting binary arithmetic: add, sub, mul, div, maximum, minimum. Each forward sits beside its backward.
import { result } from '../autograd.js';
import { broadcastIndex, broadcastKind, broadcastShapes, reduceToShape } from '../broadcast.js';
import { Tensor, sizeOf, type Shape } from '../tensor.js';

type Operand = Tensor | number;
const asTensor = (x: Operand): Tensor => (typeof x === 'number' ? Tensor.scalar(x) : x);

/** Apply f elementwise over the broadcast of a and b, with fast paths for the common layouts. */
function broadcastApply(a: Tensor, b: Tensor, outShape: Shape, f: (x: number, y: number) => number): Float32Array {
  const n = sizeOf(outShape);
  const out = new Float32Array(n);
  const ka = broadcastKind(a.shape, outShape);
  const kb = broadcastKind(b.shape, outShape);
  const ad = a.data;
  const bd = b.data;
  if (ka === 'same' && kb === 'same') {
    for (let i = 0; i < n; i++) out[i] = f(ad[i]!, bd[i]!);
  } else if (ka === 'same' && kb === 'scalar') {
    const y = bd[0]!;
    for (let i = 0; i < n; i++) out[i] = f(ad[i]!, y);
  } else if (ka === 'scalar' && kb === 'same') {
    const x = ad[0]!;
    for (let i = 0; i < n; i++) out[i] = f(x, bd[i]!);
  } else if (ka === 'same' && kb === 'suffix') {
    const m = bd.length;
    for (let i = 0; i < n; i += m) for (let j = 0; j < m; j++) out[i + j] = f(ad[i + j]!, bd[j]!);
  } else if (ka === 'suffix' && kb === 'same') {
    const m = ad.length;
    for (let i = 0; i < n; i += m) for (let j = 0; j < m; j++) out[i + j] = f(ad[j]!, bd[i + j]!);
  } else {
    const ia = broadcastIndex(a.shape, outShape);
    const ib = broadcastIndex(b.shape, outShape);
    for (let i = 0; i < n; i++) out[i] = f(ad[ia[i]!]!, bd[ib[i]!]!);
  }
  return out;
}

/** The values of `t` laid out over the broadcast shape (used by backward passes that need them). */
function expandTo(t: Tensor, outShape: Shape): Float32Array {
  if (broadcastKind(t.shape, outShape) === 'same') return t.data;
  return broadcastApply(t, Tensor.scalar(0), outShape, (x) => x);
}

export function add(aIn: Operand, bIn: Operand): Tensor {
  const a = asTensor(aIn);
  const b = asTensor(bIn);
  const shape = broadcastShapes('add', a.shape, b.shape);
  return result(broadcastApply(a, b, shape, (x, y) => x + y), shape, 'add', [a, b], (g) => [
    a.requiresGrad ? reduceToShape(g, shape, a.shape) : null,
    b.requiresGrad ? reduceToShape(g, shape, b.shape) : null,
  ]);
}

export function sub(aIn: Operand, bIn: Operand): Tensor {
  const a = asTensor(aIn);
  const b = asTensor(bIn);
  const shape = broadcastShapes('sub', a.shape, b.shape);
  return result(broadcastApply(a, b, shape, (x, y) => x - y), shape, 'sub', [a, b], (g) => [
    a.requiresGrad ? reduceToShape(g, shape, a.shape) : null,
    b.requiresGrad ? reduceToShape(g.map((v) => -v), shape, b.shape) : null,
  ]);
}

export function mul(aIn: Operand, bIn: Operand): Tensor {
  const a = asTensor(aIn);
  const b = asTensor(bIn);
  const shape = broadcastShapes('mul', a.shape, b.shape);
  return result(broadcastApply(a, b, shape, (x, y) => x * y), shape, 'mul', [a, b], (g) => {
    const gt = new Tensor(g, shape);
    return [
      a.requiresGrad ? reduceToShape(broadcastApply(gt, b, shape, (x, y) => x * y), shape, a.shape) : null,
      b.requiresGrad ? reduceToShape(broadcastApply(gt, a, shape, (x, y) => x * y), shape, b.shape) : null,
    ];
  });
}

export function div(aIn: Operand, bIn: Operand): Tensor {
  const a = asTensor(aIn);
  const b = asTensor(bIn);
  const shape = broadcastShapes('div', a.shape, b.shape);
  return result(broadcastApply(a, b, shape, (x, y) => x / y), shape, 'div', [a, b], (g) => {
    const gt = new Tensor(g, shape);
    const bx = new Tensor(expandTo(b, shape), shape);
    const ga = a.requiresGrad ? reduceToShape(broadcastApply(gt, bx, shape, (x, y) => x / y), shape, a.shape) : null;
    let gb: Float32Array | null = null;
    if (b.requiresGrad) {
      // d(a/b)/db = -a / b^2
      const ax = expandTo(a, shape);
      const t = new Float32Array(g.length);
      for (let i = 0; i < t.length; i++) t[i] = (-g[i]! * ax[i]!) / (bx.data[i]! * bx.data[i]!);
      gb = reduceToShape(t, shape, b.shape);
    }
    return [ga, gb];
  });
}

function select(name: string, pickA: (x: number, y: number) => boolean) {
  return (aIn: Operand, bIn: Operand): Tensor => {
    const a = asTensor(aIn);
    const b = asTensor(bIn);
    const shape = broadcastShapes(name, a.shape, b.shape);
    const ax = expandTo(a, shape);
    const bx = expandTo(b, shape);
    const out = new Float32Array(ax.length);
    for (let i = 0; i < out.length; i++) out[i] = pickA(ax[i]!, bx[i]!) ? ax[i]! : bx[i]!;
    return result(out, shape, name, [a, b], (g) => {
      // Ties send the gradient to `a`, like a subgradient choice.
      const ga = new Float32Array(g.length);
      const gb = new Float32Array(g.length);
      for (let i = 0; i < g.length; i++) (pickA(ax[i]!, bx[i]!) ? ga : gb)[i] = g[i]!;
      return [a.requiresGrad ? reduceToShape(ga, shape, a.shape) : null, b.requiresGrad ? reduceToShape(gb, shape, b.shape) : null];
    });
  };
}

export const maximum = select('maximum', (x, y) => x >= y);
export const minimum = select('minimum', (x, y) => x <= y);
