// The HTTP API (fastify): JSON for the workbench and scripts. Every route declares JSON schemas for its
// inputs and replies; fastify validates requests against them (unknown fields rejected) and the OpenAPI
// document at /api/openapi.json is generated from the same schemas. Errors are {error: {code, message}}.
// Routes live per area in routes/; later areas (steering, attribution graphs, the static app) add theirs.
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { LoupeError } from '../errors.js';
import type { SourcePaths } from '../features/index.js';
import type { Store } from '../store/index.js';
import { createContext, type ServerContext } from './context.js';
import { featureRoutes } from './routes/features.js';
import { healthRoutes } from './routes/health.js';
import { steeringRoutes } from './routes/steering.js';
import { emptyArtifacts, workbenchRoutes, type WorkbenchArtifacts } from './routes/workbench.js';
import { staticRoutes } from './static.js';
import { sharedSchemas } from './schemas.js';

export interface AppOptions {
  store: Store;
  /** Model / tokenizer / dictionary paths overriding those recorded in the database (for live inspection). */
  sourcePaths?: Partial<SourcePaths>;
  /** Providers the explain/score endpoints may use (default: offline only). */
  providers?: readonly string[];
  logger?: boolean;
  /** Graphs, dynamics and dictionaries the workbench shows beside the database (named on the command line). */
  artifacts?: WorkbenchArtifacts;
  /** The workbench build folder (default: the shipped web/dist); false serves the API alone. */
  webRoot?: string | false;
}

export async function createApp(opts: AppOptions): Promise<{ app: FastifyInstance; ctx: ServerContext }> {
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: 256 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  });
  const ctx = createContext(opts.store, { sourcePaths: opts.sourcePaths, providers: opts.providers });
  for (const s of sharedSchemas) app.addSchema(s);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Loupe API', version: '0.1.0', description: 'Features, prompt inspection and explanations of one dictionary (feature database).' },
      tags: [
        { name: 'meta', description: 'Server status and this document' },
        { name: 'features', description: 'Feature records, lists, live inspection and search' },
        { name: 'explanations', description: 'Explaining and scoring features' },
        { name: 'workbench', description: 'Model overview, attribution graphs, training reports for the workbench' },
      ],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  app.setErrorHandler((err: FastifyError | LoupeError | Error, _req, reply) => {
    const { status, code, message } = toHttpError(err);
    if (status >= 500 && opts.logger) app.log.error(err);
    void reply.status(status).send({ error: { code, message } });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });
  await app.register(healthRoutes);
  await app.register(async (scope) => featureRoutes(scope, ctx));
  await app.register(async (scope) => steeringRoutes(scope, ctx));
  await app.register(async (scope) => workbenchRoutes(scope, ctx, opts.artifacts ?? emptyArtifacts()));
  if (opts.webRoot !== false) await app.register(async (scope) => staticRoutes(scope, { root: opts.webRoot || undefined }));
  app.get('/api/openapi.json', { schema: { tags: ['meta'], summary: 'This API as an OpenAPI 3.1 document' } }, async () => app.swagger());
  await app.ready();
  return { app, ctx };
}

export function toHttpError(err: unknown): { status: number; code: string; message: string } {
  const fe = err as FastifyError;
  if (fe && Array.isArray(fe.validation)) return { status: 400, code: 'bad_request', message: fe.message };
  if (err instanceof LoupeError) {
    if (err.code === 'not_found') return { status: 404, code: err.code, message: err.message };
    if (err.code === 'bad_input') return { status: 400, code: err.code, message: err.message };
    if (err.code === 'source_mismatch') return { status: 409, code: err.code, message: err.message };
    if (err.code.startsWith('provider_')) return { status: 503, code: err.code, message: err.message };
    return { status: 500, code: err.code, message: err.message };
  }
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return { status: fe.statusCode, code: fe.code ?? 'bad_request', message: fe.message };
  return { status: 500, code: 'internal', message: 'internal error' };
}
