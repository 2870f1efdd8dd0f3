// Test support for the tensor layer and everything built on it: gradient checking against finite
// differences, and seeded fixtures (random shapes, kink-free data, closeness assertions).
export { gradcheck, assertGradcheck, type GradcheckOptions, type GradcheckReport, type GradMismatch, type TensorFn, type ReferenceFn } from './gradcheck.js';
export {
  SEEDS,
  randomShape,
  randTensor,
  uniformTensor,
  awayFromKinks,
  distinctValues,
  assertClose,
  assertThrowsLoupe,
  flatIndex,
  unflatIndex,
  type CloseOptions,
} from './fixtures.js';
