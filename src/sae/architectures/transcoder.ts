// Transcoders (Dunefsky et al. 2024; circuit-tracer's replacement MLPs): encode the activation at one
// hook (e.g. blocks.L.hook_resid_mid, or ln2.hook_normalized) and predict the activation at another
// (blocks.L.hook_mlp_out), optionally with a linear skip W_skip [d_in, d_out]. Training is the SAE step with
// the output hook's activation as the target and no b_dec subtracted from the input; the nonlinearities
// are the TopK and ReLU ones.
import { reluFamily } from './relu.js';
import { registerArchitecture } from './registry.js';
import { topkFamily } from './topk.js';

registerArchitecture(topkFamily('transcoder-topk', true, 'TopK transcoder: input hook -> output hook, k latents per token, optional linear skip'));
registerArchitecture(reluFamily('transcoder-relu', true, 'ReLU transcoder: input hook -> output hook, L1 weighted by decoder norms, optional linear skip'));
