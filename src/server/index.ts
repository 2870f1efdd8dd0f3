// The HTTP server: `startServer` opens a feature database and listens (127.0.0.1 by default: the API
// can run models and, if enabled, spend LLM API keys, so exposing it is an explicit choice).
import type { FastifyInstance } from 'fastify';
import { openFeatureDb, type SourcePaths } from '../features/index.js';
import { createApp } from './app.js';

export { createApp, toHttpError, type AppOptions } from './app.js';
export { createContext, type ServerContext } from './context.js';

export interface ServeOptions {
  db: string;
  host?: string;
  port?: number;
  readOnly?: boolean;
  sourcePaths?: Partial<SourcePaths>;
  providers?: readonly string[];
  logger?: boolean;
}

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const store = await openFeatureDb(opts.db, { readOnly: opts.readOnly });
  try {
    const { app } = await createApp({ store, sourcePaths: opts.sourcePaths, providers: opts.providers, logger: opts.logger });
    const address = await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 7777 });
    return {
      url: address,
      app,
      close: async () => {
        await app.close();
        store.close();
      },
    };
  } catch (err) {
    store.close();
    throw err;
  }
}
