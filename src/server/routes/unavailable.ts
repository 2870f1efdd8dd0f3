// The workbench when its feature database cannot be opened (missing, locked by another process, not a
// DuckDB file): the app still loads and every API call answers 503 with the reason, so the page can say
// what went wrong instead of the browser showing a refused connection.
import Fastify, { type FastifyInstance } from 'fastify';
import { staticRoutes } from '../static.js';
import { healthRoutes } from './health.js';

export async function createUnavailableApp(reason: string, opts: { webRoot?: string | false; logger?: boolean } = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: opts.logger ?? false });
  await app.register(healthRoutes);
  const unavailable = { error: { code: 'database_unavailable', message: reason } };
  app.all('/api/*', async (_req, reply) => reply.status(503).send(unavailable));
  if (opts.webRoot !== false) await app.register(async (scope) => staticRoutes(scope, { root: opts.webRoot || undefined }));
  await app.ready();
  return app;
}
