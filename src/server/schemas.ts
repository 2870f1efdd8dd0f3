// JSON schemas shared by routes: fastify validates requests against them (ajv) and serialises replies
// with them, and @fastify/swagger turns them into the OpenAPI document. Nullable fields are spelt
// ['type', 'null'] (OpenAPI 3.1).

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

const num = { type: 'number' } as const;
const int = { type: 'integer' } as const;
const str = { type: 'string' } as const;
const nullable = <T extends { type: string }>(s: T) => ({ ...s, type: [s.type, 'null'] }) as const;

export const exampleSchema = {
  $id: 'Example',
  type: 'object',
  description: 'A sequence from the corpus sample. tokens/activations align (BOS left out); text re-encodes to token_ids.',
  properties: {
    seq_id: int,
    position: nullable(int),
    activation: num,
    text: str,
    token_ids: { type: 'array', items: int },
    tokens: { type: 'array', items: str },
    activations: { type: 'array', items: num },
  },
  required: ['seq_id', 'position', 'activation', 'text', 'token_ids', 'tokens', 'activations'],
} as const;

const logit = { type: 'object', properties: { token_id: int, token: str, value: num }, required: ['token_id', 'token', 'value'] } as const;

export const scoreSchema = {
  type: 'object',
  properties: { scorer: str, value: nullable(num), provider: str, model: nullable(str), n_examples: nullable(int), status: str, error: nullable(str) },
} as const;

export const explanationSchema = {
  $id: 'Explanation',
  type: 'object',
  properties: { id: int, text: str, provider: str, model: nullable(str), created_at: str, scores: { type: 'array', items: scoreSchema } },
  required: ['id', 'text', 'provider', 'scores'],
} as const;

export const featureSchema = {
  $id: 'Feature',
  type: 'object',
  properties: {
    feature: int,
    density: num,
    fire_count: num,
    max_activation: num,
    mean_activation: num,
    top_examples: { type: 'array', items: { $ref: 'Example#' } },
    bins: {
      type: 'array',
      items: { type: 'object', properties: { lo: num, hi: num, count: num, examples: { type: 'array', items: { $ref: 'Example#' } } } },
    },
    histogram: { type: ['object', 'null'], properties: { edges: { type: 'array', items: num }, counts: { type: 'array', items: num } } },
    top_logits: { type: 'array', items: logit },
    bottom_logits: { type: 'array', items: logit },
    coactivating: { type: 'array', items: { type: 'object', properties: { feature: int, jaccard: num, count: num } } },
    similar: { type: 'array', items: { type: 'object', properties: { feature: int, cosine: num } } },
    top_tokens: {
      type: 'array',
      items: { type: 'object', properties: { token_id: int, token: str, count: num, mean_activation: num, max_activation: num } },
    },
    explanations: { type: 'array', items: { $ref: 'Explanation#' } },
    negative_examples: { type: 'array', items: { $ref: 'Example#' } },
  },
  required: ['feature', 'density', 'max_activation', 'top_examples', 'bins', 'histogram', 'top_logits', 'bottom_logits', 'coactivating', 'similar', 'explanations'],
} as const;

/** The error replies every route may give. */
export const errorReplies = {
  400: { $ref: 'Error#' },
  404: { $ref: 'Error#' },
  409: { $ref: 'Error#' },
  500: { $ref: 'Error#' },
  503: { $ref: 'Error#' },
} as const;

export const sharedSchemas = [errorSchema, exampleSchema, explanationSchema, featureSchema];
