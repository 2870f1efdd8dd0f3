// Every SAE architecture, registered by name on import. Add one: a file here calling
// registerArchitecture, and an import line below.
import './relu.js';
import './topk.js';
import './batchtopk.js';
import './jumprelu.js';
import './gated.js';
import './transcoder.js';

export { getArchitecture, architectureNames, registerArchitecture, type Architecture } from './registry.js';
