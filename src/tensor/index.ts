// The tensor layer: float32 tensors, ops with autodiff, optimizers, kernel backends.
// Registers the native (onnxruntime) loader; the module itself is loaded lazily on first use, and the
// pure TypeScript reference backend serves where it cannot load (or with LOUPE_BACKEND=reference).
import './backend/native/index.js';
export { Tensor, sizeOf, normDim, type Shape, type GradHook } from './tensor.js';
export { noGrad, enableGrad, isGradEnabled, backward, grad, result, type GradFn, type BackwardOptions } from './autograd.js';
export { Rng, randn, randu } from './random.js';
export { add, sub, mul, div, maximum, minimum } from './ops/binary.js';
export { neg, exp, log, sqrt, rsqrt, tanh, square, abs, sigmoid, erf, pow, affine, scale, clamp, erfScalar } from './ops/unary.js';
export { relu, silu, gelu } from './ops/activation.js';
export { sum, mean, max, argmax, logsumexp } from './ops/reduce.js';
export { softmax, logSoftmax } from './ops/softmax.js';
export { layerNorm, rmsNorm, normScale } from './ops/norm.js';
export { matmul, type MatmulOptions } from './ops/matmul.js';
export { reshape, unsqueeze, squeeze, permute, transpose, concat, slice, split, broadcastTo } from './ops/shape.js';
export { embedding, indexSelect, gather, scatterAdd, topk, topkIndices, maskedFill } from './ops/indexing.js';
export { causalMask, rope, ropeInvFreq, type RopeOptions } from './ops/attention.js';
export { crossEntropy, type CrossEntropyOptions } from './ops/loss.js';
export { Adam, clipGradNorm, type AdamOptions } from './optim/adam.js';
export { learningRate, type ScheduleOptions } from './optim/schedule.js';
export { getBackend, setBackend, withBackend, ReferenceBackend, FastTsBackend, type KernelBackend, type MatmulSpec, type LinearSpec, type LinearActivation } from './backend/index.js';
