// A float32 tensor: contiguous row-major storage plus a shape. Views (reshape, leading-dim slices)
// share storage; everything else materialises. Autodiff bookkeeping lives in autograd.ts.
import { ShapeError } from '../errors.js';
import type { GradFn } from './autograd.js';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(op: string, shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(op, `dimensions must be non-negative integers`, [shape]);
  }
}

/**
 * Hook called with the finished gradient of a tensor during backward; may return a replacement. The
 * array it receives may be shared with other tensors' gradients: read it, or return a new array, but
 * do not modify it in place.
 */
export type GradHook = (grad: Float32Array, tensor: Tensor) => Float32Array | void;

let nextId = 0;

export class Tensor {
  readonly data: Float32Array;
  readonly shape: number[];
  /** Set on leaves (parameters, inputs) that want gradients; propagated to results by ops. */
  requiresGrad: boolean;
  /** Accumulated gradient, filled by backward() on leaves and on tensors marked retainGrad(). */
  grad: Tensor | null = null;
  /** How this tensor was computed (null for leaves and for results computed without grad). */
  gradFn: GradFn | null = null;
  /** Keep the gradient of this non-leaf tensor after backward (e.g. an activation under study). */
  retainsGrad = false;
  gradHooks: GradHook[] | null = null;
  /** Unique, increasing: used to order the tape. */
  readonly id: number;

  constructor(data: Float32Array, shape: Shape, requiresGrad = false) {
    checkShape('Tensor', shape);
    if (data.length !== sizeOf(shape)) {
      throw new ShapeError('Tensor', `storage holds ${data.length} values but the shape needs ${sizeOf(shape)}`, [shape]);
    }
    this.data = data;
    this.shape = shape.slice();
    this.requiresGrad = requiresGrad;
    this.id = nextId++;
  }

  get size(): number {
    return this.data.length;
  }
  get ndim(): number {
    return this.shape.length;
  }
  /** Size of dimension `d` (negative counts from the end). */
  dim(d: number): number {
    return this.shape[normDim(d, this.shape.length, 'dim')]!;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.data.length !== 1) throw new ShapeError('item', 'needs a tensor with exactly one element', [this.shape]);
    return this.data[0]!;
  }

  /** Nested JavaScript arrays (for JSON output and tests). */
  toArray(): unknown {
    const build = (offset: number, d: number): unknown => {
      if (d === this.shape.length) return this.data[offset];
      const stride = sizeOf(this.shape.slice(d + 1));
      const out: unknown[] = [];
      for (let i = 0; i < this.shape[d]!; i++) out.push(build(offset + i * stride, d + 1));
      return out;
    };
    return build(0, 0);
  }

  /** Same storage, cut from the tape: gradients stop here. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** A copy of the storage, cut from the tape. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** Mark as a leaf that wants gradients (returns this for chaining). */
  requireGrad(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }

  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  /** Register a hook that reads (or replaces, by returning an array) this tensor's gradient. */
  onGrad(hook: GradHook): () => void {
    (this.gradHooks ??= []).push(hook);
    return () => {
      const i = this.gradHooks?.indexOf(hook) ?? -1;
      if (i >= 0) this.gradHooks!.splice(i, 1);
    };
  }

  toString(): string {
    return `Tensor([${this.shape.join(', ')}]${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  // ---- constructors ----
  static zeros(shape: Shape, requiresGrad = false): Tensor {
    checkShape('zeros', shape);
    return new Tensor(new Float32Array(sizeOf(shape)), shape, requiresGrad);
  }
  static ones(shape: Shape): Tensor {
    return Tensor.full(shape, 1);
  }
  static full(shape: Shape, value: number): Tensor {
    checkShape('full', shape);
    return new Tensor(new Float32Array(sizeOf(shape)).fill(value), shape);
  }
  static scalar(value: number): Tensor {
    return new Tensor(Float32Array.of(value), []);
  }
  /** From a flat array (with a shape) or nested arrays (shape inferred). */
  static from(values: ArrayLike<number> | unknown[], shape?: Shape, requiresGrad = false): Tensor {
    if (shape) return new Tensor(Float32Array.from(values as ArrayLike<number>), shape, requiresGrad);
    if (!Array.isArray(values)) return new Tensor(Float32Array.from(values), [values.length], requiresGrad); // a typed array: 1-D
    const inferred: number[] = [];
    let v: unknown = values;
    while (Array.isArray(v)) {
      inferred.push(v.length);
      v = v[0];
    }
    const flat = (values as unknown[]).flat(Infinity) as number[];
    if (flat.length !== sizeOf(inferred)) throw new ShapeError('Tensor.from', 'nested arrays are ragged', [inferred]);
    return new Tensor(Float32Array.from(flat), inferred, requiresGrad);
  }
  static arange(n: number): Tensor {
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) d[i] = i;
    return new Tensor(d, [n]);
  }
}

/** Normalise a possibly negative dimension index. */
export function normDim(d: number, ndim: number, op: string): number {
  const r = d < 0 ? d + ndim : d;
  if (!Number.isInteger(r) || r < 0 || r >= ndim) {
    throw new ShapeError(op, `dimension ${d} is out of range for a tensor with ${ndim} dimensions`);
  }
  return r;
}

/** View a shape as [outer, n, inner] around dimension `d`. */
export function splitAround(shape: Shape, d: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < d; i++) outer *= shape[i]!;
  for (let i = d + 1; i < shape.length; i++) inner *= shape[i]!;
  return [outer, shape[d]!, inner];
}
