// The workbench app: a static build (web/dist, made by `npm run build:web`, shipped in the package) served
// from memory. Only files found in the build folder at start-up are served: request paths are looked up
// in that table, never joined onto the file system, so no path can escape it. Every page carries a
// strict Content-Security-Policy: scripts only from this origin, no inline script, no remote fetches.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** The build folder shipped with the package: <package>/web/dist (this file is dist/server/static.js). */
export function defaultWebRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'dist');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'", // style attributes (activation colours); no inline script
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface StaticFile {
  body: Buffer;
  type: string;
  immutable: boolean;
}

/** Reads every file under root into a table keyed by URL path ("/assets/index-abc.js"). */
export function loadStaticFiles(root: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  if (!fs.existsSync(path.join(root, 'index.html'))) return files;
  const walk = (dir: string, prefix: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, e.name);
      const url = `${prefix}/${e.name}`;
      if (e.isDirectory()) walk(abs, url);
      else if (e.isFile()) {
        const ext = path.extname(e.name).toLowerCase();
        files.set(url, { body: fs.readFileSync(abs), type: TYPES[ext] ?? 'application/octet-stream', immutable: url.startsWith('/assets/') });
      }
    }
  };
  walk(root, '');
  return files;
}

function send(reply: FastifyReply, f: StaticFile): FastifyReply {
  return reply
    .header('content-type', f.type)
    .header('cache-control', f.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .send(f.body);
}

export interface StaticOptions {
  /** The build folder (default: the one shipped with the package). */
  root?: string;
}

/**
 * GET / and the app's files. Unknown /api/ paths fall through to the JSON 404; other unknown paths
 * without an extension get index.html (the app routes with the URL hash, so this is only a courtesy).
 */
export async function staticRoutes(app: FastifyInstance, opts: StaticOptions = {}): Promise<void> {
  const root = opts.root ?? defaultWebRoot();
  const files = loadStaticFiles(root);
  const index = files.get('/index.html');
  const notBuilt = (reply: FastifyReply): FastifyReply =>
    reply
      .status(503)
      .header('content-type', 'text/plain; charset=utf-8')
      .send(`The Loupe workbench is not built (no ${path.join(root, 'index.html')}). Run \`npm run build:web\` in the package folder; the API is at /api/.\n`);

  app.get('/', { schema: { hide: true } }, async (_req, reply) => (index ? send(reply, index) : notBuilt(reply)));
  app.get('/*', { schema: { hide: true } }, async (req, reply) => {
    let url: string;
    try {
      url = decodeURIComponent(req.url.split('?')[0]!);
    } catch {
      return reply.status(400).send({ error: { code: 'bad_request', message: 'malformed URL' } });
    }
    if (url.startsWith('/api/') || url === '/api') {
      return reply.status(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${url}` } });
    }
    const f = files.get(url);
    if (f) return send(reply, f);
    if (!path.extname(url)) return index ? send(reply, index) : notBuilt(reply);
    return reply.status(404).header('content-type', 'text/plain; charset=utf-8').send(`no file ${url}\n`);
  });
}
