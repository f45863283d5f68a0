/**
 * Serves the admin UI's build (web/dist) at `/`: the few files Vite writes are read into memory
 * once, so a request never touches the filesystem and no path can escape the folder. Every other
 * GET path that is not the API's, a hook's or an operations route answers index.html, so a link
 * into the single-page app (/flows/flw_…) opens it. Kept by hand rather than with @fastify/static:
 * what we need is a lookup in a map plus the SPA fallback, which that plugin does not do by itself.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where `npm run build` writes the UI. */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** First path segments that belong to the server; the UI never answers under them. */
const SERVER_PREFIXES = new Set(['api', 'hooks', 'healthz', 'readyz', 'metrics']);

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** The page may load only its own scripts and styles and talk only to its own origin. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

type UiFile = { body: Buffer; gzip: Buffer | null; type: string; etag: string; immutable: boolean };
type UiBundle = { index: UiFile; files: Map<string, UiFile> };

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Reads the build; null when it is not there (not built yet). */
export async function loadUiBundle(dir: string): Promise<UiBundle | null> {
  let paths: string[];
  try {
    paths = await listFiles(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const files = new Map<string, UiFile>();
  for (const path of paths) {
    const urlPath = `/${relative(dir, path).split(sep).join('/')}`;
    const body = await readFile(path);
    const type = CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
    const compressible = /^(text\/|application\/json|image\/svg)/.test(type) && body.length > 1024;
    files.set(urlPath, {
      body,
      gzip: compressible ? gzipSync(body) : null,
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      // Vite puts content-hashed names under assets/: a new build has new names.
      immutable: urlPath.startsWith('/assets/'),
    });
  }
  const index = files.get('/index.html');
  return index ? { index, files } : null;
}

function send(request: FastifyRequest, reply: FastifyReply, file: UiFile) {
  reply
    .header('content-type', file.type)
    .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('etag', file.etag)
    .header('x-content-type-options', 'nosniff')
    .header('vary', 'accept-encoding');
  if (file.type.startsWith('text/html'))
    reply
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'same-origin');
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  const acceptsGzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  if (file.gzip && acceptsGzip) return reply.header('content-encoding', 'gzip').send(file.gzip);
  return reply.send(file.body);
}

const NOT_BUILT =
  'The Hookflow admin UI is not built. Run `npm run build` (npm install does it too), then reload this page.\n' +
  'The API (/api/v1), the webhook endpoint (/hooks) and /healthz work without it.\n';

/**
 * GET (and HEAD) of any path outside the server's own prefixes. The build is read at the first
 * request and kept; while it is missing each request looks again, so building after the start
 * needs no restart.
 */
export function registerUiRoutes(app: FastifyInstance, opts: { dir?: string } = {}): void {
  const dir = opts.dir ?? DEFAULT_UI_DIR;
  let bundle: Promise<UiBundle | null> | null = null;
  const load = async () => {
    bundle ??= loadUiBundle(dir);
    const b = await bundle.catch((err) => {
      bundle = null;
      throw err;
    });
    if (!b) bundle = null;
    return b;
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0];
    if (SERVER_PREFIXES.has(path.split('/')[1])) {
      reply.callNotFound();
      return reply;
    }
    const ui = await load();
    if (!ui)
      return reply
        .code(503)
        .header('cache-control', 'no-store')
        .type('text/plain; charset=utf-8')
        .send(NOT_BUILT);
    const file = ui.files.get(path);
    if (file) return send(request, reply, file);
    // A missing file (an old hashed asset, a typo) is a 404; a path of the app is the app.
    if (path.startsWith('/assets/') || extname(path) !== '')
      return reply.code(404).send({ msg: `No file ${path}`, code: 'not_found' });
    return send(request, reply, ui.index);
  };
  app.get('/', handler);
  app.get('/*', handler);
}
