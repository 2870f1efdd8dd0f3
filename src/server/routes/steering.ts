// /api/steer, /api/patch, /api/ablate: steering, patching and ablation over the model and dictionary the
// feature database was built from (loaded on first use, checked against the recorded hashes). Replies
// are the JSON the CLI prints (src/steering/report.ts, src/patching/report.ts). Runs are bounded (samples,
// tokens) because each request runs the model on the server's CPU.
import type { FastifyInstance } from 'fastify';
import { InputError } from '../../errors.js';
import type { Transformer } from '../../model/index.js';
import type { Tokenizer } from '../../model/tokenizers/index.js';
import {
  ABLATION_METHODS,
  ablationEffect,
  activationPatching,
  answerToken,
  attributionPatching,
  METRIC_KINDS,
  parseTargets,
  patchReport,
  SITE_KINDS,
  type AblationMethod,
  type MetricKind,
  type SiteKind,
} from '../../patching/index.js';
import type { Sae } from '../../sae/sae.js';
import {
  CONTRAST_AGGREGATES,
  contrastiveDirection,
  contrastiveVector,
  featureDirection,
  POSITION_SELECTIONS,
  promoteDirection,
  STEER_DEFAULTS,
  STEERING_MODES,
  steer,
  steerReport,
  steerSweep,
  sweepReport,
  type ContrastAggregate,
  type PositionSelection,
  type SteeringDirection,
  type SteeringMode,
} from '../../steering/index.js';
import type { ServerContext } from '../context.js';
import { errorReplies } from '../schemas.js';

const MAX_TEXT = 4000;
const text = { type: 'string', minLength: 1, maxLength: MAX_TEXT } as const;
const reply = { 200: { type: 'object', additionalProperties: true }, ...errorReplies } as const;

interface Runtime {
  model: Transformer;
  tokenizer: Tokenizer;
  sae: Sae;
}

/** The database's model, tokenizer and dictionary (a synthetic source has none to steer). */
async function runtime(ctx: ServerContext): Promise<Runtime> {
  const s = (await ctx.source()) as unknown as Partial<Runtime>;
  if (!s.model || !s.sae || !s.tokenizer) {
    throw new InputError('this feature database was built from a synthetic source, which has no model to run; serve a database built with --model, --tokenizer and --sae');
  }
  return s as Runtime;
}

interface SteerBody {
  prompt: string;
  features?: number[];
  vector_from?: [string, string][];
  promote?: string;
  hook?: string;
  aggregate?: ContrastAggregate;
  mode?: SteeringMode;
  strength?: number;
  value?: number;
  sweep?: number[];
  positions?: PositionSelection;
  samples?: number;
  max_new_tokens?: number;
  seed?: number;
  temperature?: number;
  concept?: string;
}

interface PatchBody {
  clean: string;
  corrupt: string;
  answer: string;
  wrong?: string;
  metric?: MetricKind;
  sites?: SiteKind[];
  method?: 'activation' | 'attribution' | 'both';
  direction?: 'denoise' | 'noise';
}

interface AblateBody {
  prompts: string[];
  targets: string;
  method?: AblationMethod;
  reference?: string[];
  seed?: number;
}

export async function steeringRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.post<{ Body: SteerBody }>(
    '/api/steer',
    {
      schema: {
        tags: ['steering'],
        summary: "Generate with and without steering (same seeds): the database's dictionary features, a contrastive vector, or a word's promote direction",
        body: {
          type: 'object',
          properties: {
            prompt: { type: 'string', maxLength: MAX_TEXT },
            features: { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1, maxItems: 16 },
            vector_from: { type: 'array', items: { type: 'array', items: text, minItems: 2, maxItems: 2 }, minItems: 1, maxItems: 16 },
            promote: { type: 'string', minLength: 1, maxLength: 100 },
            hook: { type: 'string', maxLength: 200 },
            aggregate: { type: 'string', enum: [...CONTRAST_AGGREGATES] },
            mode: { type: 'string', enum: [...STEERING_MODES] },
            strength: { type: 'number' },
            value: { type: 'number' },
            sweep: { type: 'array', items: { type: 'number' }, minItems: 1, maxItems: 12 },
            positions: { type: 'string', enum: [...POSITION_SELECTIONS] },
            samples: { type: 'integer', minimum: 1, maximum: 64 },
            max_new_tokens: { type: 'integer', minimum: 1, maximum: 256 },
            seed: { type: 'integer', minimum: 0 },
            temperature: { type: 'number', minimum: 0, maximum: 10 },
            concept: { type: 'string', minLength: 1, maxLength: 500 },
          },
          required: ['prompt'],
          additionalProperties: false,
        },
        response: reply,
      },
    },
    async (req) => {
      const b = req.body;
      const sources = [b.features, b.vector_from, b.promote].filter((x) => x !== undefined).length;
      if (sources !== 1) throw new InputError('steer one thing: "features" (of this database\'s dictionary), "vector_from" (pairs of prompts) with "hook", or "promote" (a word)');
      const { model, tokenizer, sae } = await runtime(ctx);
      let directions: SteeringDirection[];
      let source: 'feature' | 'vector' | 'promote';
      if (b.features) {
        if (b.hook !== undefined) throw new InputError('"hook" is for vectors; features are steered at their dictionary\'s hook');
        directions = b.features.map((f) => featureDirection(sae, f));
        source = 'feature';
      } else if (b.promote !== undefined) {
        directions = [promoteDirection(model, tokenizer, b.promote, { hook: b.hook, restWeight: STEER_DEFAULTS.promoteRestWeight })];
        source = 'promote';
      } else {
        if (!b.hook) throw new InputError('"vector_from" needs "hook", the hook point to steer at (e.g. blocks.2.hook_resid_post)');
        directions = [contrastiveDirection(contrastiveVector(model, tokenizer, { hook: b.hook, pairs: b.vector_from!, aggregate: b.aggregate ?? STEER_DEFAULTS.aggregate }))];
        source = 'vector';
      }
      const mode = b.mode ?? STEER_DEFAULTS.mode;
      const amount = mode === 'add' ? (b.strength ?? STEER_DEFAULTS.strengthFor[source]) : mode === 'ablate' ? 0 : (b.value ?? STEER_DEFAULTS.valueFor[source]);
      const opts = {
        interventions: directions.map((direction) => ({ direction, mode, amount })),
        prompt: b.prompt,
        maxNewTokens: b.max_new_tokens ?? STEER_DEFAULTS.maxNewTokens,
        samples: b.samples ?? STEER_DEFAULTS.samples,
        seed: b.seed ?? 0,
        temperature: b.temperature ?? STEER_DEFAULTS.temperature,
        positions: b.positions ?? STEER_DEFAULTS.positions,
        concept: b.concept,
      };
      if (b.sweep) return { ...sweepReport(steerSweep(model, tokenizer, opts, b.sweep), mode === 'add' ? 'strength' : 'value'), mode, positions: opts.positions };
      return { ...steerReport(steer(model, tokenizer, opts), directions), mode, positions: opts.positions };
    },
  );

  app.post<{ Body: PatchBody }>(
    '/api/patch',
    {
      schema: {
        tags: ['steering'],
        summary: 'Activation / attribution patching between a clean and a corrupted prompt (effects per [layer][position] or [layer][head])',
        body: {
          type: 'object',
          properties: {
            clean: text,
            corrupt: text,
            answer: { type: 'string', minLength: 1, maxLength: 100 },
            wrong: { type: 'string', minLength: 1, maxLength: 100 },
            metric: { type: 'string', enum: [...METRIC_KINDS] },
            sites: { type: 'array', items: { type: 'string', enum: [...SITE_KINDS] }, minItems: 1, uniqueItems: true },
            method: { type: 'string', enum: ['activation', 'attribution', 'both'] },
            direction: { type: 'string', enum: ['denoise', 'noise'] },
          },
          required: ['clean', 'corrupt', 'answer'],
          additionalProperties: false,
        },
        response: reply,
      },
    },
    async (req) => {
      const b = req.body;
      const { model, tokenizer } = await runtime(ctx);
      const clean = tokenizer.encode(b.clean, { bos: true });
      const opts = {
        clean,
        corrupt: tokenizer.encode(b.corrupt, { bos: true }),
        metric: { kind: b.metric ?? 'logit_diff', answer: answerToken(tokenizer, b.answer, 'answer'), wrong: b.wrong !== undefined ? answerToken(tokenizer, b.wrong, 'wrong') : null },
        sites: b.sites ?? (['resid_pre', 'attn_out', 'mlp_out', 'heads'] as SiteKind[]),
        direction: b.direction ?? 'denoise',
      };
      const method = b.method ?? 'activation';
      const exact = method !== 'attribution' ? activationPatching(model, opts) : null;
      const approx = method !== 'activation' ? attributionPatching(model, opts) : null;
      const tokens = clean.map((id, i) => (tokenizer.isSpecial(id) ? tokenizer.tokenString(id).trim() : tokenizer.decodeToken(id, i ? clean[i - 1] : undefined)));
      return patchReport((exact ?? approx)!, tokens, exact && approx ? approx : undefined);
    },
  );

  app.post<{ Body: AblateBody }>(
    '/api/ablate',
    {
      schema: {
        tags: ['steering'],
        summary: "Ablate heads, neurons or the dictionary's features (zero, mean, resample) and report the next-token loss change",
        body: {
          type: 'object',
          properties: {
            prompts: { type: 'array', items: text, minItems: 1, maxItems: 64 },
            targets: { type: 'string', minLength: 1, maxLength: 2000 },
            method: { type: 'string', enum: [...ABLATION_METHODS] },
            reference: { type: 'array', items: text, minItems: 1, maxItems: 256 },
            seed: { type: 'integer', minimum: 0 },
          },
          required: ['prompts', 'targets'],
          additionalProperties: false,
        },
        response: reply,
      },
    },
    async (req) => {
      const b = req.body;
      const { model, tokenizer, sae } = await runtime(ctx);
      const enc = (t: string): number[] => tokenizer.encode(t, { bos: true });
      const method = b.method ?? 'zero';
      const r = ablationEffect(model, b.prompts.map(enc), parseTargets(b.targets, sae), { method, reference: b.reference?.map(enc), seed: b.seed, bosId: tokenizer.bosId });
      return { clean_loss: r.cleanLoss, ablated_loss: r.ablatedLoss, delta: r.delta, tokens: r.tokens, method, targets: b.targets };
    },
  );
}
