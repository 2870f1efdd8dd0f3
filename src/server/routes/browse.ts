// GET /api/workbench/features: the feature browser's table: a page of features with density, max
// activation, the latest explanation and its mean score, ordered by any of them, optionally filtered
// to features whose explanation contains a text. (The search by token evidence is /api/features/search.)
import type { FastifyInstance } from 'fastify';
import { builtInfo } from '../../features/index.js';
import type { ServerContext } from '../context.js';
import { errorReplies } from '../schemas.js';

const ORDERS = {
  feature: 'f.feature',
  density: 'f.density DESC NULLS LAST, f.feature',
  max_activation: 'f.max_activation DESC NULLS LAST, f.feature',
  score: 'sc.score DESC NULLS LAST, f.feature',
} as const;
type Order = keyof typeof ORDERS;

export interface BrowseRow {
  feature: number;
  density: number;
  max_activation: number;
  explanation: string | null;
  score: number | null;
}

export async function browseRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get<{ Querystring: { offset: number; limit: number; order: Order; explanation?: string } }>(
    '/api/workbench/features',
    {
      schema: {
        tags: ['workbench'],
        summary: 'A page of features with explanation and mean explanation score, ordered by feature, density, max activation or score',
        querystring: {
          type: 'object',
          properties: {
            offset: { type: 'integer', minimum: 0, default: 0 },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            order: { type: 'string', enum: Object.keys(ORDERS), default: 'feature' },
            explanation: { type: 'string', minLength: 1, maxLength: 200, description: 'only features whose latest explanation contains this text (case-insensitive)' },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              total: { type: 'integer' },
              matching: { type: 'integer' },
              features: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { feature: { type: 'integer' }, density: { type: 'number' }, max_activation: { type: 'number' }, explanation: { type: ['string', 'null'] }, score: { type: ['number', 'null'] } },
                },
              },
            },
          },
          ...errorReplies,
        },
      },
    },
    async (req) =>
      ctx.db(async () => {
        const info = await builtInfo(ctx.store);
        const q = req.query;
        // Latest successful explanation per feature, and the mean of its successful scores.
        const from = `FROM features f
          LEFT JOIN (SELECT feature, id, text FROM (SELECT feature, id, text, row_number() OVER (PARTITION BY feature ORDER BY id DESC) AS rn FROM explanations WHERE status = 'ok') WHERE rn = 1) l ON l.feature = f.feature
          LEFT JOIN (SELECT explanation_id, avg(value) AS score FROM scores WHERE status = 'ok' AND value IS NOT NULL GROUP BY explanation_id) sc ON sc.explanation_id = l.id
          ${q.explanation ? `WHERE l.text ILIKE ? ESCAPE '\\'` : ''}`;
        const filter = q.explanation ? [`%${q.explanation.replace(/[\\%_]/g, (c) => '\\' + c)}%`] : [];
        const [count] = await ctx.store.all<{ n: number | bigint }>(`SELECT count(*) AS n ${from}`, filter);
        const rows = await ctx.store.all<BrowseRow>(
          `SELECT f.feature, f.density, f.max_activation, l.text AS explanation, sc.score ${from} ORDER BY ${ORDERS[q.order]} LIMIT ? OFFSET ?`,
          [...filter, q.limit, q.offset],
        );
        return { total: info.nFeatures, matching: Number(count?.n ?? 0), features: rows.map((r) => ({ ...r, score: r.score === null ? null : Number(r.score) })) };
      }),
  );
}
