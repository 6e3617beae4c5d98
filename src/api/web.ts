/**
 * The dashboard (built from web/ by Vite into web/dist) served at `/`: files streamed with
 * node:fs, hashed assets cached for a year, index.html never cached, and every other GET that is
 * not under /api answered with index.html so client-side routes survive a reload. Without a build
 * `/` answers a short page saying how to make one; the API works either way.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

/** web/dist next to src/ in the checkout (src/api/web.ts → ../../web/dist). */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Vite names built assets `name-<hash>.ext` under assets/: their content never changes. */
const HASHED_ASSET = /^\/assets\/.+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

// Unstyled on purpose: the Content-Security-Policy (security-headers.ts) allows no inline style or script.
const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Continuum</title></head>
<body>
<h1>Continuum</h1>
<p>The platform is running, but the dashboard has not been built.</p>
<p>Build it from the checkout with <code>npx vite build web</code> (it is also built by <code>npm install</code>), then reload this page.</p>
<p>The REST API is at <a href="/api/docs">/api/docs</a>.</p>
</body></html>
`;

export interface WebOptions {
  /** The built dashboard; default web/dist of the checkout. */
  readonly root?: string;
  /** What the browser reads from GET /api/ui-config before sign-in (the map's tile server). */
  readonly ui?: { readonly tileUrl?: string; readonly tileAttribution?: string };
}

const UiConfigView = Type.Object({ tileUrl: Type.Union([Type.String(), Type.Null()]), tileAttribution: Type.Union([Type.String(), Type.Null()]) });

interface Found {
  readonly path: string;
  readonly size: number;
  readonly mtime: Date;
}

async function fileAt(path: string): Promise<Found | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? { path, size: s.size, mtime: s.mtime } : undefined;
  } catch {
    return undefined;
  }
}

/** The app's JSON 404 (reply.callNotFound answers nothing itself). */
function notFound(reply: FastifyReply): FastifyReply {
  reply.callNotFound();
  return reply;
}

export const webRoutes: FastifyPluginAsync<WebOptions> = async (app, opts) => {
  const root = resolve(opts.root ?? DEFAULT_WEB_ROOT);

  const send = (request: FastifyRequest, reply: FastifyReply, file: Found, urlPath: string): FastifyReply => {
    const type = CONTENT_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream';
    const etag = `W/"${file.size.toString(16)}-${file.mtime.getTime().toString(16)}"`;
    reply.header('content-type', type);
    reply.header('etag', etag);
    reply.header('last-modified', file.mtime.toUTCString());
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', HASHED_ASSET.test(urlPath) ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    reply.header('content-length', file.size);
    if (request.method === 'HEAD') return reply.send();
    return reply.send(createReadStream(file.path));
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    let urlPath: string;
    try {
      urlPath = decodeURIComponent(request.url.split('?')[0] ?? '/');
    } catch {
      return notFound(reply);
    }
    // The API (and anything under it) keeps its JSON 404.
    if (urlPath === '/api' || urlPath.startsWith('/api/')) return notFound(reply);
    const index = await fileAt(join(root, 'index.html'));
    if (!index) return reply.code(urlPath === '/' || !extname(urlPath) ? 200 : 404).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').send(NOT_BUILT_PAGE);
    if (urlPath !== '/' && !urlPath.includes('\0')) {
      const target = resolve(root, `.${urlPath}`);
      if (target.startsWith(root + sep)) {
        const file = await fileAt(target);
        if (file) return send(request, reply, file, urlPath);
      }
      // A missing file (a path with an extension) is a 404, not the app: a stale asset must not parse HTML.
      if (extname(urlPath)) return notFound(reply);
    }
    return send(request, reply, index, '/index.html');
  };

  // Public (the sign-in page may already show the map's settings); it holds no secret, only a URL template.
  const uiConfig = { tileUrl: opts.ui?.tileUrl || null, tileAttribution: opts.ui?.tileAttribution || null };
  app.get('/api/ui-config', { schema: { tags: ['ui'], operationId: 'getUiConfig', summary: 'Dashboard settings (map tile server; null: none, the map works offline)', security: [], response: { 200: UiConfigView } } }, async (_request, reply) => {
    reply.header('cache-control', 'no-cache');
    return uiConfig;
  });
  app.get('/', { schema: { hide: true } }, handler);
  app.get('/*', { schema: { hide: true } }, handler);
};
