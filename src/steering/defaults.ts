// Defaults of `loupe steer` and the steering endpoint, taken from the measurements in docs/steering.md
// (stories260K concept steering): change them there first, then here.
import type { ContrastAggregate } from './contrastive.js';
import type { PositionSelection } from './hooks.js';
import type { SteeringMode } from './intervene.js';

export const STEER_DEFAULTS = {
  mode: 'add' as SteeringMode,
  /** add: strength along W_dec[f] (feature activation units) or times the raw vector. */
  strength: 4,
  /** clamp / cap: the target value. */
  value: 4,
  positions: 'all' as PositionSelection,
  aggregate: 'mean' as ContrastAggregate,
  maxNewTokens: 40,
  samples: 20,
  temperature: 1,
};
