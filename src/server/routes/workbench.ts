// The routes the workbench app needs beyond the feature API: the model overview, the browser's table,
// the files named on the command line (graphs, training dynamics, dictionary reports), and the steering
// playground's streamed generations.
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { artifactRoutes, type WorkbenchArtifacts } from './artifacts.js';
import { browseRoutes } from './browse.js';
import { modelRoutes } from './model.js';
import { steerStreamRoutes } from './steer-stream.js';

export { emptyArtifacts, type WorkbenchArtifacts } from './artifacts.js';

export async function workbenchRoutes(app: FastifyInstance, ctx: ServerContext, artifacts: WorkbenchArtifacts): Promise<void> {
  await modelRoutes(app, ctx, artifacts);
  await browseRoutes(app, ctx);
  await artifactRoutes(app, ctx, artifacts);
  await steerStreamRoutes(app, ctx);
}
