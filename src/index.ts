// Loupe's library API, one namespace per layer (the CLI and the HTTP server are thin layers over these).
// Each is also importable on its own: `import * as T from 'loupe/tensor'`, `from 'loupe/model'`, ...
export * as tensor from './tensor/index.js';
export * as io from './io/index.js';
export * as model from './model/index.js';
export * as lens from './analysis/lens/index.js';
export * as activations from './activations/index.js';
export * as sae from './sae/index.js';
export * as features from './features/index.js';
export * as autointerp from './autointerp/index.js';
export * as steering from './steering/index.js';
export * as patching from './patching/index.js';
export * as circuits from './circuits/index.js';
export * as grow from './grow/index.js';
export * as store from './store/index.js';
export * as server from './server/index.js';
export * from './errors.js';
