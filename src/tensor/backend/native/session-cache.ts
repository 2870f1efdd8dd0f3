// One onnxruntime session per graph signature, built on first use and kept for the process: building
// one costs about a millisecond, running one about 20 us plus the kernel.
import { LoupeError } from '../../../errors.js';
import { buildOnnxModel, type OnnxGraphSpec } from './onnx-graph.js';
import type { OrtBinding, OrtNativeSession, OrtSessionOptions } from './ort-binding.js';

export class SessionCache {
  private readonly sessions = new Map<string, OrtNativeSession>();

  constructor(
    private readonly binding: OrtBinding,
    private readonly options: OrtSessionOptions,
  ) {}

  get(key: string, graph: () => OnnxGraphSpec): OrtNativeSession {
    let session = this.sessions.get(key);
    if (!session) {
      session = this.create(key, graph());
      this.sessions.set(key, session);
    }
    return session;
  }

  get size(): number {
    return this.sessions.size;
  }

  private create(key: string, graph: OnnxGraphSpec): OrtNativeSession {
    const bytes = buildOnnxModel(graph);
    const session = this.binding.createSession();
    try {
      session.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, this.options);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new LoupeError('native_kernel', `native backend: onnxruntime rejected the ${key} graph: ${why}`, { key });
    }
    return session;
  }
}
