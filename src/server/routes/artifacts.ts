// Files the workbench shows beside the feature database, named on the command line (never by a request:
// a request picks one by its index in these lists, so no request can read an arbitrary path):
//   GET /api/graphs, /api/graphs/{id}                      attribution graphs (circuit-tracer GRAPH.json)
//   GET /api/dynamics, /api/dynamics/{id}                  training dynamics (`loupe dynamics` JSON)
//   GET /api/dictionaries, /api/dictionaries/{id}/report   dictionary training reports (SAELens dirs)
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { LoupeError } from '../../errors.js';
import { databaseInfo } from '../../features/index.js';
import { readSafetensors } from '../../io/safetensors.js';
import { CFG_FILE, listCheckpoints, parseSaeConfig, readSaeInfo } from '../../sae/index.js';
import type { ServerContext } from '../context.js';
import { errorReplies } from '../schemas.js';

export interface NamedFile {
  name: string;
  path: string;
}

export interface WorkbenchArtifacts {
  /** Attribution graphs in the circuit-tracer JSON schema. */
  graphs: NamedFile[];
  /** `loupe dynamics` JSON files: {"checkpoints": [{step, loss, induction_max, prev_token_max, icl_score}]}. */
  dynamics: NamedFile[];
  /** The database's dictionary if it moved (--sae); by default its recorded path. */
  dictionary: string | null;
  /** Transcoder directories (SAELens layout), one per layer. */
  transcoders: string[];
}

export const emptyArtifacts = (): WorkbenchArtifacts => ({ graphs: [], dynamics: [], dictionary: null, transcoders: [] });

/** Dictionaries under DIR: DIR itself when it holds cfg.json, else its subdirectories that do (natural order). */
export function dictionaryDirs(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new LoupeError('bad_input', `${dir}: no such directory of dictionaries`);
  if (fs.existsSync(path.join(dir, CFG_FILE))) return [dir];
  const subs = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(dir, e.name, CFG_FILE)))
    .map((e) => path.join(dir, e.name))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (subs.length === 0) throw new LoupeError('bad_input', `${dir}: holds no dictionary (no ${CFG_FILE} in it or in its subdirectories)`);
  return subs;
}

/** Files named on the command line: a file, or a directory whose *.json files are taken (sorted). */
export function namedFiles(paths: readonly string[], what: string): NamedFile[] {
  const out: NamedFile[] = [];
  for (const p of paths) {
    if (!fs.existsSync(p)) throw new LoupeError('bad_input', `${p}: no such ${what} file or directory`);
    if (fs.statSync(p).isDirectory()) {
      for (const n of fs.readdirSync(p).filter((n) => n.endsWith('.json')).sort()) out.push({ name: n, path: path.join(p, n) });
    } else out.push({ name: path.basename(p), path: p });
  }
  return out;
}

export interface DictionarySummary {
  path: string;
  available: boolean;
  error?: string;
  architecture?: string;
  d_in?: number;
  d_sae?: number;
  d_out?: number;
  k?: number | null;
  hook_name?: string;
  hook_name_out?: string | null;
  model_name?: string;
}

export function dictionarySummary(dir: string): DictionarySummary {
  if (dir.startsWith('synthetic')) return { path: dir, available: false, error: 'a synthetic dictionary (no files)' };
  try {
    const cfgPath = path.join(dir, CFG_FILE);
    const c = parseSaeConfig(JSON.parse(fs.readFileSync(cfgPath, 'utf8')), cfgPath);
    return { path: dir, available: true, architecture: c.architecture, d_in: c.dIn, d_sae: c.dSae, d_out: c.dOut, k: c.k, hook_name: c.hookName, hook_name_out: c.hookNameOut, model_name: c.modelName };
  } catch (err) {
    return { path: dir, available: false, error: (err as Error).message };
  }
}

/** The training report of a dictionary directory: config, how it was trained, density histogram, checkpoints. */
export function dictionaryReport(dir: string): Record<string, unknown> {
  const summary = dictionarySummary(dir);
  if (!summary.available) return { summary, training: {}, metadata: {}, density: null, checkpoints: [] };
  const info = readSaeInfo(dir);
  let density: { edges: number[]; counts: number[]; dead: number; total: number } | null = null;
  const sparsity = path.join(dir, 'sparsity.safetensors');
  if (fs.existsSync(sparsity)) {
    try {
      const t = readSafetensors(sparsity).tensors.get('sparsity');
      if (t) density = log10Histogram(t.data);
    } catch {
      density = null;
    }
  }
  const checkpoints = listCheckpoints(path.join(dir, 'checkpoints')).map((c) => {
    try {
      const s = JSON.parse(fs.readFileSync(path.join(c, 'trainer_state.json'), 'utf8')) as Record<string, unknown>;
      return { name: path.basename(c), step: s.step, tokens: s.tokens, elapsed_seconds: s.elapsed_seconds };
    } catch {
      return { name: path.basename(c) };
    }
  });
  return { summary, training: info.loupe, metadata: info.metadata, density, checkpoints };
}

/** Histogram of log10 firing densities; latents at the floor (<= -9.9, never fired) are counted as dead. */
function log10Histogram(logDensity: Float32Array, bins = 24): { edges: number[]; counts: number[]; dead: number; total: number } {
  let lo = 0;
  let dead = 0;
  for (const v of logDensity) {
    if (v <= -9.9) dead++;
    else lo = Math.min(lo, v);
  }
  lo = Math.floor(lo);
  if (lo === 0) lo = -1;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + (i * -lo) / bins);
  const counts = new Array<number>(bins).fill(0);
  for (const v of logDensity) {
    if (v <= -9.9) continue;
    counts[Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / -lo) * bins)))]!++;
  }
  return { edges, counts, dead, total: logDensity.length };
}

/** Reads a `loupe dynamics` JSON file and checks its shape. */
export function readDynamics(file: string): { checkpoints: Record<string, number | null>[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new LoupeError('bad_input', `${path.basename(file)}: not readable JSON (${(err as Error).message})`);
  }
  const cps = (raw as { checkpoints?: unknown })?.checkpoints;
  if (!Array.isArray(cps)) throw new LoupeError('bad_input', `${path.basename(file)}: expected {"checkpoints": [{step, loss, ...}]}, found no "checkpoints" array`);
  for (const [i, c] of cps.entries()) {
    if (typeof c !== 'object' || c === null || typeof (c as { step?: unknown }).step !== 'number') {
      throw new LoupeError('bad_input', `${path.basename(file)}: checkpoint ${i} has no numeric "step"`);
    }
  }
  return raw as { checkpoints: Record<string, number | null>[] };
}

const idParam = { type: 'object', properties: { id: { type: 'integer', minimum: 0 } }, required: ['id'], additionalProperties: false } as const;
const listReply = { type: 'array', items: { type: 'object', additionalProperties: true } } as const;

/** Every dictionary the workbench knows, the database's first (index 0), then the transcoders. */
export async function knownDictionaries(ctx: ServerContext, a: WorkbenchArtifacts): Promise<{ id: number; role: 'features' | 'transcoder'; path: string }[]> {
  let own = a.dictionary;
  if (!own) {
    try {
      own = (await ctx.db(() => databaseInfo(ctx.store))).identity.dictionary.path;
    } catch {
      own = null;
    }
  }
  const list = [...(own ? [{ role: 'features' as const, path: own }] : []), ...a.transcoders.map((p) => ({ role: 'transcoder' as const, path: p }))];
  return list.map((d, id) => ({ id, ...d }));
}

export async function artifactRoutes(app: FastifyInstance, ctx: ServerContext, a: WorkbenchArtifacts): Promise<void> {
  const pick = <T>(list: readonly T[], id: number, what: string): T => {
    const v = list[id];
    if (v === undefined) {
      throw new LoupeError('not_found', list.length ? `no ${what} ${id}: this server has ${list.length} (0-${list.length - 1})` : `this server has no ${what}s (start \`loupe serve\` with the option that names them)`);
    }
    return v;
  };

  app.get('/api/graphs', { schema: { tags: ['workbench'], summary: 'Attribution graphs this server was started with', response: { 200: listReply, ...errorReplies } } }, async () =>
    a.graphs.map((g, id) => ({ id, name: g.name, bytes: fs.existsSync(g.path) ? fs.statSync(g.path).size : null })),
  );
  app.get<{ Params: { id: number } }>(
    '/api/graphs/:id',
    { schema: { tags: ['workbench'], summary: 'One attribution graph (circuit-tracer JSON), as written', params: idParam, response: { ...errorReplies } } },
    async (req, reply) => {
      const g = pick(a.graphs, req.params.id, 'graph');
      if (!fs.existsSync(g.path)) throw new LoupeError('not_found', `graph file ${g.name} is gone`);
      return reply.header('content-type', 'application/json; charset=utf-8').send(fs.createReadStream(g.path));
    },
  );
  app.get('/api/dynamics', { schema: { tags: ['workbench'], summary: 'Training-dynamics files this server was started with', response: { 200: listReply, ...errorReplies } } }, async () =>
    a.dynamics.map((d, id) => ({ id, name: d.name })),
  );
  app.get<{ Params: { id: number } }>(
    '/api/dynamics/:id',
    { schema: { tags: ['workbench'], summary: 'One training-dynamics file', params: idParam, response: { 200: { type: 'object', additionalProperties: true }, ...errorReplies } } },
    async (req) => {
      const d = pick(a.dynamics, req.params.id, 'dynamics file');
      return { name: d.name, ...readDynamics(d.path) };
    },
  );
  app.get('/api/dictionaries', { schema: { tags: ['workbench'], summary: 'Dictionaries: the database\'s, then transcoders', response: { 200: listReply, ...errorReplies } } }, async () =>
    (await knownDictionaries(ctx, a)).map((d) => ({ ...d, ...dictionarySummary(d.path) })),
  );
  app.get<{ Params: { id: number } }>(
    '/api/dictionaries/:id/report',
    { schema: { tags: ['workbench'], summary: 'A dictionary\'s training report', params: idParam, response: { 200: { type: 'object', additionalProperties: true }, ...errorReplies } } },
    async (req) => {
      const d = pick(await knownDictionaries(ctx, a), req.params.id, 'dictionary');
      return { ...d, ...dictionaryReport(d.path) };
    },
  );
}
