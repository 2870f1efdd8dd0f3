// /api/features: feature records, lists, live prompt inspection, search, and explanation runs.
import type { FastifyInstance } from 'fastify';
import { createProvider, explainFeatures, scoreFeatures, SCORERS, type ScorerName } from '../../autointerp/index.js';
import { builtInfo, databaseInfo, featureRecord, inspectPrompt, listFeatures, parseFeatureList, searchFeatures } from '../../features/index.js';
import { InputError, LoupeError } from '../../errors.js';
import type { ServerContext } from '../context.js';
import { errorReplies } from '../schemas.js';

const MAX_PROMPT_CHARS = 20_000;
const featureIndex = { type: 'integer', minimum: 0 } as const;
const featureSpec = {
  description: 'Feature indices and ranges, e.g. "0-49,60" (at most 1000 features)',
  type: 'string',
  pattern: '^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$',
  maxLength: 2000,
} as const;
const usageSchema = {
  type: 'object',
  properties: { promptTokens: { type: 'number' }, completionTokens: { type: 'number' }, requests: { type: 'number' }, retries: { type: 'number' }, failures: { type: 'number' } },
} as const;

export async function featureRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get(
    '/api/features/info',
    {
      schema: {
        tags: ['features'],
        summary: 'What the database was built from (model, tokenizer, dictionary with content hashes) and how',
        response: { 200: { type: 'object', additionalProperties: true }, ...errorReplies },
      },
    },
    async () => ctx.db(() => databaseInfo(ctx.store)),
  );

  app.get<{ Querystring: { offset: number; limit: number; order: 'feature' | 'density' | 'max_activation' } }>(
    '/api/features',
    {
      schema: {
        tags: ['features'],
        summary: 'A page of features with density, max activation and latest explanation',
        querystring: {
          type: 'object',
          properties: {
            offset: { type: 'integer', minimum: 0, default: 0 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
            order: { type: 'string', enum: ['feature', 'density', 'max_activation'], default: 'feature' },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              total: { type: 'integer' },
              features: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { feature: { type: 'integer' }, density: { type: 'number' }, max_activation: { type: 'number' }, explanation: { type: ['string', 'null'] } },
                },
              },
            },
          },
          ...errorReplies,
        },
      },
    },
    async (req) => ctx.db(() => listFeatures(ctx.store, req.query.offset, req.query.limit, req.query.order)),
  );

  app.get<{ Params: { feature: number }; Querystring: { negatives: boolean } }>(
    '/api/features/:feature',
    {
      schema: {
        tags: ['features'],
        summary: "One feature's full record",
        params: { type: 'object', properties: { feature: featureIndex }, required: ['feature'] },
        querystring: { type: 'object', properties: { negatives: { type: 'boolean', default: false } }, additionalProperties: false },
        response: { 200: { $ref: 'Feature#' }, ...errorReplies },
      },
    },
    async (req) =>
      ctx.db(async () => {
        const { nFeatures } = await builtInfo(ctx.store);
        const f = req.params.feature;
        if (f >= nFeatures) throw new LoupeError('not_found', `feature ${f} is out of range: this dictionary has ${nFeatures} features (0-${nFeatures - 1})`, { feature: f, nFeatures });
        return featureRecord(ctx.store, f, { negatives: req.query.negatives });
      }),
  );

  app.post<{ Body: { prompt: string; top?: number; features?: number[] } }>(
    '/api/features/inspect',
    {
      schema: {
        tags: ['features'],
        summary: "Each token's strongest features for a prompt, computed live",
        body: {
          type: 'object',
          properties: {
            prompt: { type: 'string', minLength: 1, maxLength: MAX_PROMPT_CHARS },
            top: { type: 'integer', minimum: 1, maximum: 1000 },
            features: { type: 'array', items: featureIndex, maxItems: 256 },
          },
          required: ['prompt'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              text: { type: 'string' },
              bos: { type: 'boolean' },
              tokens: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    token: { type: 'string' },
                    token_id: { type: 'integer' },
                    position: { type: 'integer' },
                    features: { type: 'array', items: { type: 'object', properties: { feature: { type: 'integer' }, activation: { type: 'number' } } } },
                  },
                },
              },
            },
          },
          ...errorReplies,
        },
      },
    },
    async (req) => {
      const source = await ctx.source();
      return ctx.db(() => inspectPrompt(ctx.store, source, req.body.prompt, { top: req.body.top, features: req.body.features }));
    },
  );

  app.get<{ Querystring: { query: string; limit: number } }>(
    '/api/features/search',
    {
      schema: {
        tags: ['features'],
        summary: 'Features for a word or text: input evidence (fires on it), output evidence (promotes it), explanation matches',
        querystring: {
          type: 'object',
          properties: { query: { type: 'string', minLength: 1, maxLength: 500 }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 20 } },
          required: ['query'],
          additionalProperties: false,
        },
        response: { 200: { type: 'object', additionalProperties: true }, ...errorReplies },
      },
    },
    async (req) => {
      const tokenizer = (await ctx.tokenizer()) ?? undefined;
      return ctx.db(() => searchFeatures(ctx.store, req.query.query, { limit: req.query.limit, tokenizer }));
    },
  );

  const runBody = {
    type: 'object',
    properties: {
      features: featureSpec,
      provider: { type: 'string', enum: ['offline', 'openai', 'anthropic'], default: 'offline' },
      model: { type: 'string', maxLength: 200 },
      scorers: { type: 'array', items: { type: 'string', enum: [...SCORERS] }, uniqueItems: true },
    },
    required: ['features'],
    additionalProperties: false,
  } as const;

  const prepareRun = async (body: { features: string; provider?: string; model?: string }) => {
    if (ctx.readOnly) throw new InputError('this server opened the database read-only; restart `loupe serve` without --read-only to store explanations');
    const provider = body.provider ?? 'offline';
    if (!ctx.providers.includes(provider)) {
      throw new InputError(`provider ${provider} is not enabled on this server (enabled: ${ctx.providers.join(', ')}); start \`loupe serve --providers ${provider}\``);
    }
    const info = await ctx.db(() => builtInfo(ctx.store));
    const features = parseFeatureList(body.features, info.nFeatures);
    if (features.length > 1000) throw new InputError(`at most 1000 features per request, got ${features.length}`);
    return { features, provider: createProvider(provider, { model: body.model }) };
  };

  app.post<{ Body: { features: string; provider?: string; model?: string } }>(
    '/api/features/explain',
    {
      schema: {
        tags: ['explanations'],
        summary: 'Explain features with a provider; failures are recorded per feature',
        body: runBody,
        response: { 200: { type: 'object', additionalProperties: true, properties: { usage: usageSchema } }, ...errorReplies },
      },
    },
    async (req) => {
      const { features, provider } = await prepareRun(req.body);
      return explainFeatures(ctx.store, { features, provider, lock: ctx.lock });
    },
  );

  app.post<{ Body: { features: string; provider?: string; model?: string; scorers?: ScorerName[] } }>(
    '/api/features/score',
    {
      schema: {
        tags: ['explanations'],
        summary: "Score features' latest explanations (detection, fuzzing, simulation)",
        body: runBody,
        response: { 200: { type: 'object', additionalProperties: true, properties: { usage: usageSchema } }, ...errorReplies },
      },
    },
    async (req) => {
      const { features, provider } = await prepareRun(req.body);
      return scoreFeatures(ctx.store, { features, provider, scorers: req.body.scorers, lock: ctx.lock });
    },
  );
}
