// Defaults of `loupe steer` and the steering endpoint, taken from the measurements in docs/steering.md
// (stories260K concept steering): change them there first, then here. Strengths are per kind of
// direction because their scales differ: a feature's W_dec row and the promote direction are unit
// vectors (strength = activation units), a contrastive vector is used as measured (strength = multiple).
import type { ContrastAggregate } from './contrastive.js';
import type { PositionSelection } from './hooks.js';
import type { SteeringMode } from './intervene.js';

export type DirectionSource = 'feature' | 'vector' | 'promote';

export const STEER_DEFAULTS = {
  mode: 'add' as SteeringMode,
  /** add: a feature's strength (the default of strengthFor.feature). */
  strength: 2,
  /** clamp / cap: a feature's target value. */
  value: 2,
  /** add: strength per kind of direction. */
  strengthFor: { feature: 2, vector: 1.5, promote: 4 } as Record<DirectionSource, number>,
  /** clamp / cap: target value per kind of direction (a feature's value; a vector's projection). */
  valueFor: { feature: 2, vector: 2, promote: 2 } as Record<DirectionSource, number>,
  positions: 'all' as PositionSelection,
  aggregate: 'mean' as ContrastAggregate,
  /** Weight of a promoted word's later pieces relative to its first (0.5 beat 0 and 1 on every concept measured). */
  promoteRestWeight: 0.5,
  maxNewTokens: 40,
  samples: 20,
  temperature: 1,
};
