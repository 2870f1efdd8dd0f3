// GET /api/model: the workbench's overview: what the database was built from, the model's architecture
// and hook points (when the model loads), the files actually loaded (they may have moved since the build:
// --model, --tokenizer, --sae), and the dictionaries this server knows (the database's own, plus
// transcoders named on the command line).
import type { FastifyInstance } from 'fastify';
import { builtInfo, databaseInfo } from '../../features/index.js';
import { hookShape, parameterCount, Transformer } from '../../model/index.js';
import type { ServerContext } from '../context.js';
import { errorReplies } from '../schemas.js';
import { dictionarySummary, knownDictionaries, type WorkbenchArtifacts } from './artifacts.js';

export async function modelRoutes(app: FastifyInstance, ctx: ServerContext, artifacts: WorkbenchArtifacts): Promise<void> {
  app.get(
    '/api/model',
    {
      schema: {
        tags: ['workbench'],
        summary: 'Model overview: the database, the model architecture and hook points, available dictionaries and artifacts',
        response: { 200: { type: 'object', additionalProperties: true }, ...errorReplies },
      },
    },
    async () => {
      const info = await ctx.db(() => databaseInfo(ctx.store));
      let built = true;
      try {
        await ctx.db(() => builtInfo(ctx.store));
      } catch {
        built = false;
      }
      // The model is loaded with the source (first use); a failure is reported, not fatal: the
      // feature pages still work from the database alone.
      let model: Record<string, unknown> | null = null;
      let modelError: string | null = null;
      let loaded: { model: string; tokenizer: string; dictionary: string } | null = null;
      try {
        const source = await ctx.source();
        const i = source.identity;
        loaded = { model: i.model.path, tokenizer: i.tokenizer.path, dictionary: i.dictionary.path };
        const m = (source as { model?: unknown }).model;
        if (m instanceof Transformer) {
          const c = m.config;
          model = {
            config: c,
            parameters: parameterCount(c),
            hooks: m.hookNames().map((name) => ({ name, shape: hookShape(name, c) })),
          };
        }
      } catch (err) {
        modelError = (err as Error).message;
      }
      const dictionaries = (await knownDictionaries(ctx, artifacts)).map((d) => ({ ...d, ...dictionarySummary(d.path) }));
      return {
        database: { path: info.path, built, identity: info.identity, build: info.build, nFeatures: info.nFeatures },
        model,
        modelError,
        loaded,
        dictionaries,
        graphs: artifacts.graphs.map((g, i) => ({ id: i, name: g.name })),
        dynamics: artifacts.dynamics.map((d, i) => ({ id: i, name: d.name })),
        steering: model !== null,
      };
    },
  );
}
