/**
 * Security headers on a whole platform with both listeners (HTTP and HTTPS, a self-signed
 * certificate made with openssl): the dashboard, its assets, the management API and Swagger UI
 * carry a strict Content-Security-Policy, Referrer-Policy and X-Frame-Options; HSTS only over
 * TLS; the device HTTP API under /api/v1 none of them (it is a hot path and no browser reads it).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tileSource } from '../../src/api/security-headers.js';
import { loadConfig } from '../../src/apps/config.js';
import { startPlatform, type Platform } from '../../src/apps/platform.js';
import { buildWeb, openBrowser } from '../web/browser-support.js';
import { ADMIN, apiClient, type ApiClient } from '../support/platform.js';
import { tempDir } from '../support/tmp.js';

const run = promisify(execFile);
let platform: Platform;
let api: ApiClient;
let ca: Buffer;
let httpBase: string;
let httpsBase: string;
let asset: string;
let token: string;

type Headers = Record<string, string | string[] | undefined>;

/** GET over HTTPS trusting the test certificate (fetch has no per-request CA). */
function getTls(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function getPlain(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers }> {
  const res = await fetch(httpBase + path, { headers });
  await res.arrayBuffer();
  return { status: res.status, headers: Object.fromEntries(res.headers) };
}

function directives(csp: unknown): Map<string, string[]> {
  assert.equal(typeof csp, 'string', 'a Content-Security-Policy header');
  return new Map(
    (csp as string)
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name as string, values]),
  );
}

function assertStrictPolicy(headers: Headers, where: string): void {
  const csp = directives(headers['content-security-policy']);
  assert.deepEqual(csp.get('script-src'), ["'self'"], `${where}: script-src 'self' only`);
  assert.deepEqual(csp.get('frame-ancestors'), ["'none'"], where);
  assert.deepEqual(csp.get('object-src'), ["'none'"], where);
  assert.deepEqual(csp.get('base-uri'), ["'self'"], where);
  assert.deepEqual(csp.get('form-action'), ["'self'"], where);
  assert.ok(!csp.get('default-src')?.some((v) => v.includes('unsafe')), where);
  assert.equal(headers['referrer-policy'], 'strict-origin-when-cross-origin', where);
  assert.equal(headers['x-frame-options'], 'DENY', where);
  assert.equal(headers['x-content-type-options'], 'nosniff', where);
}

before(async () => {
  await buildWeb();
  const dir = tempDir('continuum-headers-');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert]);
  ca = readFileSync(cert);
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: dir,
      host: '127.0.0.1',
      http: { port: 0 },
      https: { port: 0 },
      mqtt: { port: 0, tlsPort: 0 },
      coap: { port: 0 },
      tls: { cert, key },
      web: { tileUrl: 'https://{s}.tile.example.org/{z}/{x}/{y}.png' },
      auth: { adminEmail: ADMIN.email, adminPassword: ADMIN.password, jwtTtlSeconds: 3600 },
      log: { level: 'silent' },
    },
  });
  platform = await startPlatform(config);
  const url = (name: string): string => platform.addresses.find((a) => a.name === name)?.url ?? assert.fail(`listener ${name}`);
  httpBase = url('http');
  httpsBase = url('https');
  api = await apiClient(httpBase);
  const login = await fetch(`${httpBase}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  token = ((await login.json()) as { token: string }).token;
  const index = readFileSync(join('web', 'dist', 'index.html'), 'utf8');
  asset = /src="(\/assets\/[^"]+\.js)"/.exec(index)?.[1] ?? assert.fail('index.html names its script');
});

after(async () => {
  await platform?.stop();
});

test('regression: no Content-Security-Policy, frame-ancestors or Referrer-Policy — every response from / and the management API carries the CSP (frame-ancestors none) and Referrer-Policy, without HSTS over plain HTTP', async () => {
  const auth = { authorization: `Bearer ${token}` };
  for (const [path, status, headers] of [
    ['/', 200, {}],
    ['/index.html', 200, {}],
    [asset, 200, {}],
    ['/devices/some-client-route', 200, {}],
    ['/api/devices', 200, auth],
    ['/api/devices', 401, {}],
    ['/api/no-such-route', 404, auth],
  ] as const) {
    const res = await getPlain(path, headers);
    assert.equal(res.status, status, path);
    assertStrictPolicy(res.headers, `http ${path}`);
    assert.equal(res.headers['strict-transport-security'], undefined, `no HSTS over plain HTTP: ${path}`);
  }
  // The configured tile host (its templated subdomain as a wildcard) is the only other image source.
  const csp = directives((await getPlain('/')).headers['content-security-policy']);
  assert.deepEqual(csp.get('img-src'), ["'self'", 'data:', 'https://*.tile.example.org']);
  const port = new URL(httpBase).port;
  assert.deepEqual(csp.get('connect-src'), ["'self'", `ws://127.0.0.1:${port}`, `wss://127.0.0.1:${port}`]);
  assert.equal(csp.get('upgrade-insecure-requests'), undefined, 'plain HTTP is not upgraded (it would break a LAN address)');
});

test('the TLS listener adds HSTS to the same headers', async () => {
  for (const path of ['/', '/index.html', asset]) {
    const res = await getTls(httpsBase + path);
    assert.equal(res.status, 200, path);
    assertStrictPolicy(res.headers, `https ${path}`);
    assert.equal(res.headers['strict-transport-security'], 'max-age=31536000', path);
  }
  const devices = await getTls(`${httpsBase}/api/devices`, { authorization: `Bearer ${token}` });
  assert.equal(devices.status, 200);
  assertStrictPolicy(devices.headers, 'https /api/devices');
  assert.ok(devices.headers['strict-transport-security']);
});

test('Swagger UI at /api/docs has its own policy, still without inline script or framing', async () => {
  const res = await getPlain('/api/docs/static/index.html');
  assert.equal(res.status, 200);
  assertStrictPolicy(res.headers, '/api/docs');
  const openapi = await getPlain('/api/openapi.json');
  assert.equal(openapi.status, 200);
  assert.ok(openapi.headers['content-security-policy']);
});

test('Swagger UI renders in Chromium under its policy without violations', async () => {
  const browser = await openBrowser();
  try {
    await browser.page.goto(`${httpBase}/api/docs`);
    await browser.page.getByRole('heading', { name: /Continuum management API/ }).waitFor();
    await browser.page.locator('.opblock').first().waitFor();
    assert.deepEqual(browser.errors, []);
  } finally {
    await browser.close();
  }
});

test('the device HTTP API under /api/v1 answers without browser security headers', async () => {
  const device = await api.createDevice('headers-meter');
  for (const base of [httpBase, httpsBase]) {
    const url = `${base}/api/v1/${device.accessToken}/telemetry`;
    const headers = base === httpBase
      ? await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"t":1}' }).then(async (res) => {
          assert.equal(res.status, 200);
          return Object.fromEntries(res.headers);
        })
      : await new Promise<Headers>((resolve, reject) => {
          const req = httpsRequest(url, { method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (res) => {
            assert.equal(res.statusCode, 200);
            res.resume();
            res.on('end', () => resolve(res.headers));
          });
          req.on('error', reject);
          req.end('{"t":1}');
        });
    for (const name of ['content-security-policy', 'referrer-policy', 'x-frame-options', 'strict-transport-security']) assert.equal(headers[name], undefined, `${base}: ${name}`);
  }
});

test('tileSource: the CSP source of a tile URL template', () => {
  assert.equal(tileSource('https://tiles.example.org/{z}/{x}/{y}.png'), 'https://tiles.example.org');
  assert.equal(tileSource('https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png'), 'https://*.tile.openstreetmap.org');
  assert.equal(tileSource('http://127.0.0.1:8081/{z}/{x}/{y}.png'), 'http://127.0.0.1:8081');
  assert.equal(tileSource('https://a.{s}.example.org/{z}.png'), 'https:', 'a template in an inner label: scheme only');
  assert.equal(tileSource('/tiles/{z}/{x}/{y}.png'), undefined, 'relative: already covered by self');
  assert.equal(tileSource(undefined), undefined);
});
