// The active kernel backend: native (onnxruntime) when it loads, else the fast TypeScript kernels;
// LOUPE_BACKEND=reference selects the float64-accumulating reference that tests compare against.
import type { KernelBackend } from './backend.js';
import { ReferenceBackend } from './reference.js';
import { FastTsBackend } from './ts-fast.js';

export type { KernelBackend, MatmulSpec, LinearSpec, LinearActivation } from './backend.js';
export { ReferenceBackend } from './reference.js';
export { FastTsBackend } from './ts-fast.js';

let active: KernelBackend | null = null;
let nativeLoader: (() => KernelBackend | null) | null = null;

/** Registered by backend/native at import time, so this module has no hard dependency on it. */
export function registerNativeLoader(loader: () => KernelBackend | null): void {
  nativeLoader = loader;
}

export function getBackend(): KernelBackend {
  if (!active) {
    const wantReference = process.env.LOUPE_BACKEND === 'reference';
    active = wantReference ? new ReferenceBackend() : nativeLoader?.() ?? new FastTsBackend();
  }
  return active;
}

export function setBackend(backend: KernelBackend): void {
  active = backend;
}

/** Run `fn` with a given backend (tests compare backends this way). */
export function withBackend<T>(backend: KernelBackend, fn: () => T): T {
  const prev = active;
  active = backend;
  try {
    return fn();
  } finally {
    active = prev;
  }
}
