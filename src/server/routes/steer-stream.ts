// POST /api/steer/stream: the steering playground's generations, streamed as NDJSON while they are made.
// Each feature has its own mode and amount. The unsteered and steered continuations advance one token
// at a time, in turn, with the same sampler seed per step on both sides (so at temperature 0 they are
// exactly `generate`'s greedy texts, and at any temperature the pair differs only by the intervention).
// A step re-runs the whole sequence (no KV cache) so the event loop can send each token as it comes; that
// is fine for the small models the workbench runs live, and why new tokens are capped at 128.
// (The full paired report, with many samples, fluency and concept rates, is POST /api/steer.)
//   {"type": "start", "prompt_tokens": n}
//   {"type": "token", "side": "baseline" | "steered", "text": " the"}        one per new token
//   {"type": "done", "baseline": {"text", "loss", "stop"}, "steered": {...}}
//   {"type": "error", "message": "..."}                                       after start, instead of done
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { InputError } from '../../errors.js';
import { generate, type Transformer } from '../../model/index.js';
import type { Tokenizer } from '../../model/tokenizers/index.js';
import type { Sae } from '../../sae/sae.js';
import { continuationLoss, featureDirection, STEER_DEFAULTS, steeringHooks, type Intervention, type SteeringMode } from '../../steering/index.js';
import type { ServerContext } from '../context.js';
import { errorReplies } from '../schemas.js';

interface StreamBody {
  prompt: string;
  interventions: { feature: number; mode: SteeringMode; amount?: number }[];
  max_new_tokens?: number;
  seed?: number;
  temperature?: number;
}

const MAX_NEW = 128;

export async function steerStreamRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.post<{ Body: StreamBody }>(
    '/api/steer/stream',
    {
      schema: {
        tags: ['steering'],
        summary: 'Unsteered and steered continuations side by side, streamed token by token (NDJSON)',
        body: {
          type: 'object',
          properties: {
            prompt: { type: 'string', minLength: 1, maxLength: 4000 },
            interventions: {
              type: 'array',
              minItems: 1,
              maxItems: 16,
              items: {
                type: 'object',
                properties: { feature: { type: 'integer', minimum: 0 }, mode: { type: 'string', enum: ['add', 'clamp', 'cap', 'ablate'] }, amount: { type: 'number', minimum: -1000, maximum: 1000 } },
                required: ['feature', 'mode'],
                additionalProperties: false,
              },
            },
            max_new_tokens: { type: 'integer', minimum: 1, maximum: MAX_NEW },
            seed: { type: 'integer', minimum: 0, maximum: 2 ** 31 - 1 },
            temperature: { type: 'number', minimum: 0, maximum: 10 },
          },
          required: ['prompt', 'interventions'],
          additionalProperties: false,
        },
        response: { ...errorReplies },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const s = (await ctx.source()) as unknown as { model?: Transformer; tokenizer?: Tokenizer; sae?: Sae };
      if (!s.model || !s.tokenizer || !s.sae) throw new InputError('this feature database was built from a synthetic source, which has no model to run; serve a database built with --model, --tokenizer and --sae');
      const { model, tokenizer, sae } = s as Required<typeof s>;
      // Everything that can be refused is checked before the stream starts, so errors get a 4xx.
      const interventions: Intervention[] = b.interventions.map((iv) => ({
        direction: featureDirection(sae, iv.feature),
        mode: iv.mode,
        amount: iv.mode === 'ablate' ? 0 : (iv.amount ?? (iv.mode === 'add' ? STEER_DEFAULTS.strength : STEER_DEFAULTS.value)),
      }));
      const promptIds = tokenizer.encode(b.prompt, { bos: true });
      const maxNew = b.max_new_tokens ?? STEER_DEFAULTS.maxNewTokens;
      const nCtx = model.config.nCtx;
      if (promptIds.length + maxNew > nCtx) {
        throw new InputError(`the prompt is ${promptIds.length} tokens and ${maxNew} new tokens were asked for, but the model's context is ${nCtx} tokens; shorten the prompt or ask for fewer tokens`);
      }
      const hooks = steeringHooks(interventions, { positions: 'all', promptLength: promptIds.length, bosId: tokenizer.bosId });
      const seed = b.seed ?? 0;
      const temperature = b.temperature ?? STEER_DEFAULTS.temperature;

      const out = new PassThrough();
      const send = (ev: unknown): void => void out.write(JSON.stringify(ev) + '\n');
      void reply.header('content-type', 'application/x-ndjson; charset=utf-8').header('cache-control', 'no-cache').send(out);
      let closed = false;
      req.raw.on('close', () => (closed = true));
      void (async () => {
        try {
          send({ type: 'start', prompt_tokens: promptIds.length });
          const sides = { baseline: { ids: [] as number[], stop: null as string | null }, steered: { ids: [] as number[], stop: null as string | null } };
          for (let step = 0; step < maxNew && !closed; step++) {
            for (const side of ['baseline', 'steered'] as const) {
              const st = sides[side];
              if (st.stop) continue;
              const seq = [...promptIds, ...st.ids];
              const r = generate(model, tokenizer, seq, { maxNewTokens: 1, seed: (seed * 7919 + step) % 2 ** 31, temperature, hooks: side === 'steered' ? hooks : undefined, useKvCache: false });
              const id = r.ids[0];
              if (id === undefined || r.stopReason === 'stop_token' || r.stopReason === 'context') {
                st.stop = r.stopReason;
                continue;
              }
              st.ids.push(id);
              send({ type: 'token', side, text: tokenizer.decodeToken(id, seq[seq.length - 1]) });
            }
            if (sides.baseline.stop && sides.steered.stop) break;
            await new Promise((r) => setImmediate(r)); // let the tokens go out
          }
          const side = (k: 'baseline' | 'steered') => {
            const ids = sides[k].ids;
            return { text: tokenizer.decode(ids), loss: ids.length ? continuationLoss(model, promptIds, [ids]).mean : null, stop: sides[k].stop ?? 'max_new_tokens' };
          };
          send({ type: 'done', baseline: side('baseline'), steered: side('steered') });
        } catch (err) {
          send({ type: 'error', message: (err as Error).message });
        } finally {
          out.end();
        }
      })();
      return reply;
    },
  );
}
