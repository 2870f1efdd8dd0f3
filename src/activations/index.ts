// Activations for dictionary learning: sources (model over text, disk cache, synthetic, in-memory), the
// shuffling buffer between a source and a trainer, and the on-disk shard cache.
export { ArraySource, collectRows, type ActivationChunk, type ActivationSource } from './source.js';
export { ShuffleBuffer, mixSeed, type Batch, type ShuffleBufferOptions, type ShuffleBufferState } from './buffer.js';
export { ModelActivationSource, checkHarvestHooks, type HarvestOptions } from './harvest.js';
export { tokenWindows, splitDocuments, documentHash, inSplit, countWindowTokens, SPLITS, type Split, type TextDataOptions } from './token-windows.js';
export { writeActivationCache, DiskActivationSource, readManifest, MANIFEST, type CacheManifest, type WriteCacheOptions } from './disk-cache.js';
export { SyntheticSource, type SyntheticOptions } from './synthetic.js';
