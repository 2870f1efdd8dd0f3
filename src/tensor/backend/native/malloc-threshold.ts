// onnxruntime-node 1.30 copies every fetched output into a fresh ArrayBuffer after each run (see
// native-backend.ts). For outputs of a few MB, glibc serves that copy with a new mmap, so every call
// pays a page fault per 4 KB (about 1.5 ms for a 6 MB output on the 2-core VM) and unmaps it again.
// glibc raises its mmap threshold to the size of the largest mmapped block freed so far (capped at
// 32 MB), after which such blocks come from the heap and their pages are reused. One throwaway buffer
// just under the cap, freed by the next GC, moves the threshold up front: 512x768x3072 went from a
// bimodal 131-171 GFLOP/s to 158-178 (docs/benchmarks.md). Elsewhere (macOS, Windows, musl) this
// costs one short-lived allocation and nothing else.
let primed = false;

const BELOW_GLIBC_CAP = 31 * 1024 * 1024;

export function raiseMallocMmapThreshold(): void {
  if (primed || process.platform !== 'linux') return;
  primed = true;
  const scratch = new Uint8Array(BELOW_GLIBC_CAP);
  scratch[scratch.length - 1] = 1; // keep the allocation from being elided
}
