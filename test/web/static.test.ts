/** The web plugin alone: content types, caching, SPA fallback, traversal, and no build at all. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { webRoutes } from '../../src/api/web.js';
import { tempDir } from '../support/platform.js';

let dir: string;
let app: FastifyInstance;
let bare: FastifyInstance;

before(async () => {
  dir = tempDir();
  mkdirSync(join(dir, 'dist', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'index.html'), '<!doctype html><div id="app"></div>');
  writeFileSync(join(dir, 'dist', 'assets', 'index-AbCd1234.js'), 'console.log(1)');
  writeFileSync(join(dir, 'dist', 'robots.txt'), 'User-agent: *');
  writeFileSync(join(dir, 'secret.txt'), 'outside');
  app = Fastify();
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'NOT_FOUND' }));
  await app.register(webRoutes, { root: join(dir, 'dist') });
  app.get('/api/real', async () => ({ ok: true }));
  bare = Fastify();
  await bare.register(webRoutes, { root: join(dir, 'nowhere') });
});

after(async () => {
  await app.close();
  await bare.close();
  rmSync(dir, { recursive: true, force: true });
});

test('index.html is never cached; hashed assets are immutable; other files revalidate', async () => {
  const index = await app.inject('/');
  assert.equal(index.statusCode, 200);
  assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(index.headers['cache-control'], 'no-cache');
  const js = await app.inject('/assets/index-AbCd1234.js');
  assert.equal(js.body, 'console.log(1)');
  assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
  const txt = await app.inject('/robots.txt');
  assert.equal(txt.headers['cache-control'], 'no-cache');
  const again = await app.inject({ url: '/assets/index-AbCd1234.js', headers: { 'if-none-match': String(js.headers.etag) } });
  assert.equal(again.statusCode, 304);
  const head = await app.inject({ method: 'HEAD', url: '/' });
  assert.equal(head.statusCode, 200);
  assert.equal(head.body, '');
});

test('client routes get index.html; missing files, /api paths and traversal get a 404', async () => {
  const deep = await app.inject('/devices/abc?x=1');
  assert.equal(deep.statusCode, 200);
  assert.match(deep.body, /id="app"/);
  assert.equal((await app.inject('/assets/gone-12345678.js')).statusCode, 404);
  assert.equal((await app.inject('/api/unknown')).json<{ error: string }>().error, 'NOT_FOUND');
  assert.deepEqual((await app.inject('/api/real')).json(), { ok: true });
  assert.equal((await app.inject('/%2e%2e/secret.txt')).statusCode, 404);
  assert.equal((await app.inject('/..%2fsecret.txt')).statusCode, 404);
  const malformed = (await app.inject('/%E0%A4%A')).statusCode;
  assert.ok(malformed === 400 || malformed === 404, `malformed path: ${malformed}`);
});

test('without a build, / explains how to make one instead of failing', async () => {
  const res = await bare.inject('/');
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /npx vite build web/);
  assert.equal((await bare.inject('/devices/x')).statusCode, 200);
  assert.equal((await bare.inject('/app.js')).statusCode, 404);
});
