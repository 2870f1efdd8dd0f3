// Native kernels on onnxruntime-node (MLAS on CPU). Importing this folder registers the native loader
// with backend/index.ts, so getBackend() prefers native where it loads. Direct use: loadNativeBackend()
// returns null, with a reason from nativeUnavailableReason(), where the native module cannot load.
import { registerNativeLoader } from '../index.js';
import { loadNativeBackend } from './native-backend.js';

export { NativeBackend, loadNativeBackend, nativeUnavailableReason, DEFAULT_SMALL_FLOPS } from './native-backend.js';
export type { NativeBackendOptions } from './native-backend.js';
export { buildOnnxModel } from './onnx-graph.js';
export { raiseMallocMmapThreshold } from './malloc-threshold.js';
export type { OnnxGraphSpec, OnnxNodeSpec, OnnxValueSpec, OnnxAttribute, OnnxDim } from './onnx-graph.js';

registerNativeLoader(() => loadNativeBackend());
