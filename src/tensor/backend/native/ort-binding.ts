// Loads onnxruntime-node's native binding directly. The package's public InferenceSession.run is async
// (it defers the call with setImmediate); the binding underneath is synchronous, which is what a kernel
// called in the middle of a forward pass needs. Facts relied on (onnxruntime-node 1.30, read from its
// dist/ JS and binding source):
// - binding.InferenceSession#loadModel(arrayBuffer, byteOffset, byteLength, sessionOptions) is sync.
// - #run(feeds, fetches, runOptions?) is sync. A feed is any object with {type, data, dims, location};
//   its typed array is wrapped in place (no copy). A fetch that is such an object (not null) is a
//   pre-allocated output: the kernel writes straight into its typed array.
// - initOrt() must run once before the first session is created.
import { createRequire } from 'node:module';

/** The tensor shape the binding reads: plain objects work, no onnxruntime-common Tensor needed. */
export interface OrtTensorLike {
  type: 'float32';
  data: Float32Array;
  dims: number[];
  location: 'cpu';
}

export interface OrtSessionOptions {
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'layout' | 'all';
  executionMode?: 'sequential' | 'parallel';
  enableCpuMemArena?: boolean;
  enableMemPattern?: boolean;
  /** Session config entries, e.g. { 'session.intra_op.allow_spinning': '0' }. */
  extra?: Record<string, string>;
}

export interface OrtNativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: OrtSessionOptions): void;
  run(feeds: Record<string, OrtTensorLike>, fetches: Record<string, OrtTensorLike | null>, options?: object): Record<string, unknown>;
  dispose?(): void;
}

export interface OrtBinding {
  createSession(): OrtNativeSession;
  /** onnxruntime-node's package version, for reports. */
  version: string;
}

export type OrtLoadResult = { ok: true; binding: OrtBinding } | { ok: false; reason: string };

let cached: OrtLoadResult | undefined;

/** Loads the binding once; never throws (the reason is kept for `loupe` diagnostics). */
export function loadOrtBinding(): OrtLoadResult {
  if (!cached) cached = tryLoad();
  return cached;
}

function tryLoad(): OrtLoadResult {
  try {
    const require = createRequire(import.meta.url);
    const mod = require('onnxruntime-node/dist/binding') as {
      binding?: { InferenceSession?: new () => OrtNativeSession };
      initOrt?: () => void;
    };
    const Session = mod.binding?.InferenceSession;
    if (typeof Session !== 'function' || typeof mod.initOrt !== 'function') {
      return { ok: false, reason: 'onnxruntime-node/dist/binding does not export binding.InferenceSession and initOrt (unsupported version?)' };
    }
    mod.initOrt();
    let version = 'unknown';
    try {
      version = (require('onnxruntime-node/package.json') as { version?: string }).version ?? version;
    } catch {
      // package.json hidden by an exports map: the version is only informational.
    }
    return { ok: true, binding: { createSession: () => new Session(), version } };
  } catch (err) {
    return { ok: false, reason: `cannot load onnxruntime-node: ${err instanceof Error ? err.message : String(err)}` };
  }
}
