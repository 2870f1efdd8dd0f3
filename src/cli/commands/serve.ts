// `loupe serve`: the workbench (a static app shipped with the package) and its HTTP API over one feature
// database. Binds 127.0.0.1 unless told otherwise: the API runs the model and, with --providers, spends
// LLM API keys. `loupe demo`: the same over a small database built from the embedded synthetic model.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import '../../tensor/backend/native/index.js'; // native kernels for live inspection
import { PROVIDERS } from '../../autointerp/index.js';
import { InputError } from '../../errors.js';
import { buildFeatures, openFeatureDb, SyntheticSource, syntheticCorpus, type SourcePaths } from '../../features/index.js';
import { createApp } from '../../server/index.js';
import { dictionaryDirs, namedFiles, type WorkbenchArtifacts } from '../../server/routes/artifacts.js';
import { syntheticGraph } from '../../server/routes/graph-fixture.js';
import { createUnavailableApp } from '../../server/routes/unavailable.js';
import { Store } from '../../store/index.js';
import { parseIntOption, printJson } from '../output.js';

interface ServeFlags {
  db: string;
  host: string;
  port: number;
  readOnly?: boolean;
  providers: string;
  model?: string;
  tokenizer?: string;
  sae?: string;
  transcoders?: string;
  graph: string[];
  dynamics: string[];
  open?: boolean;
  log?: boolean;
  json?: boolean;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function register(program: Command): void {
  program
    .command('serve')
    .description('Serve the workbench and its HTTP API over a feature database (OpenAPI description at /api/openapi.json)')
    .requiredOption('--db <file>', 'feature database')
    .option('--host <addr>', 'address to bind (anything but loopback exposes the API to the network)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free one)', parseIntOption('port', 0, 65535), 7777)
    .option('--read-only', 'open the database read-only (explain/score endpoints refuse)')
    .option('--providers <list>', `explanation providers the API may call (${PROVIDERS.join(', ')}); HTTP ones use this process's API keys`, 'offline')
    .option('--model <path>', 'the model, if it moved since the build (checked by content hash)')
    .option('--tokenizer <path>', 'the tokenizer, if it moved')
    .option('--sae <dir>', 'the dictionary, if it moved')
    .option('--transcoders <dir>', 'transcoders (SAELens layout; DIR or its subdirectories) to list and report on')
    .option('--graph <file>', 'attribution graph JSON (circuit-tracer schema) or a directory of them; repeatable', collect, [])
    .option('--dynamics <file>', '`loupe dynamics` JSON or a directory of them; repeatable', collect, [])
    .option('--open', 'open the workbench in a browser')
    .option('--log', 'log requests to stderr')
    .option('--json', 'print {"url": ...} on one line once listening')
    .action(async (flags: ServeFlags) => {
      const providers = flags.providers.split(',').map((s) => s.trim()).filter(Boolean);
      for (const p of providers) if (!(PROVIDERS as readonly string[]).includes(p)) throw new InputError(`unknown provider "${p}" (providers: ${PROVIDERS.join(', ')})`);
      const artifacts: WorkbenchArtifacts = {
        graphs: namedFiles(flags.graph, 'graph'),
        dynamics: namedFiles(flags.dynamics, 'dynamics'),
        dictionary: flags.sae ?? null,
        transcoders: flags.transcoders ? dictionaryDirs(flags.transcoders) : [],
      };
      const sourcePaths: Partial<SourcePaths> = { ...(flags.model ? { model: flags.model } : {}), ...(flags.tokenizer ? { tokenizer: flags.tokenizer } : {}), ...(flags.sae ? { dictionary: flags.sae } : {}) };
      await serveWorkbench({ ...flags, providers, artifacts, sourcePaths });
    });
}

/** The demo's database (synthetic model, 64 features) and an example attribution graph, made once in dir. */
export async function prepareDemo(dir: string): Promise<{ db: string; graph: string }> {
  fs.mkdirSync(dir, { recursive: true });
  const db = path.join(dir, 'features.duckdb');
  const graph = path.join(dir, 'example-graph.json');
  const done = path.join(dir, '.built');
  if (!fs.existsSync(done)) {
    process.stderr.write(`loupe demo: building a feature database from the synthetic model in ${dir} ...\n`);
    fs.rmSync(db, { force: true });
    fs.rmSync(db + '.wal', { force: true });
    const corpus = path.join(dir, 'corpus.txt');
    fs.writeFileSync(corpus, syntheticCorpus(3000));
    const store = await Store.open(db);
    try {
      await buildFeatures({ store, source: new SyntheticSource({ nFeatures: 64 }), data: corpus, tokens: 40_000, context: 32 });
    } finally {
      store.close();
    }
    fs.writeFileSync(graph, JSON.stringify(syntheticGraph({ nodes: 400, links: 3000, layers: 6, nFeatures: 64, slug: 'demo-graph' })));
    fs.writeFileSync(done, new Date().toISOString() + '\n');
  }
  return { db, graph };
}

export interface WorkbenchFlags {
  db: string;
  host: string;
  port: number;
  readOnly?: boolean;
  providers: string[];
  artifacts: WorkbenchArtifacts;
  sourcePaths: Partial<SourcePaths>;
  open?: boolean;
  log?: boolean;
  json?: boolean;
}

export async function serveWorkbench(flags: WorkbenchFlags): Promise<void> {
  if (!/^(127\.|localhost$|::1$)/.test(flags.host)) process.stderr.write(`loupe: warning: binding ${flags.host} exposes the API beyond this machine\n`);
  let app: FastifyInstance;
  let close: () => Promise<void>;
  try {
    const store = await openFeatureDb(flags.db, { readOnly: flags.readOnly });
    try {
      app = (await createApp({ store, sourcePaths: flags.sourcePaths, providers: flags.providers, logger: flags.log, artifacts: flags.artifacts })).app;
    } catch (err) {
      store.close();
      throw err;
    }
    close = async () => {
      await app.close();
      store.close();
    };
  } catch (err) {
    // The page says what went wrong: the app is served and every API call answers with the reason.
    const reason = `cannot open the feature database ${flags.db}: ${(err as Error).message}`;
    process.stderr.write(`loupe: ${reason}\n`);
    app = await createUnavailableApp(reason, { logger: flags.log });
    close = () => app.close();
  }
  const url = await app.listen({ host: flags.host, port: flags.port });
  if (flags.json) printJson({ url });
  else process.stderr.write(`Loupe workbench on ${url}/ (API: ${url}/api/, OpenAPI: ${url}/api/openapi.json); Ctrl-C to stop\n`);
  if (flags.open) openBrowser(url + '/');
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(cmd, [url], { detached: true, stdio: 'ignore' });
    child.on('error', () => process.stderr.write(`loupe: could not open a browser (${cmd}); open ${url} yourself\n`));
    child.unref();
  } catch {
    process.stderr.write(`loupe: open ${url} in a browser\n`);
  }
}
