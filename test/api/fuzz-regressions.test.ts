/**
 * REST requests the fuzzer (bench/fuzz) answered with a 5xx; kept in
 * test/fixtures/fuzz/rest-5xx.json and replayed here against a real platform.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { connect } from 'node:net';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

interface Case {
  readonly bug: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/fuzz/rest-5xx.json', import.meta.url), 'utf8')) as { cases: Case[] };

let tp: TestPlatform;
before(async () => {
  tp = await startTestPlatform();
});
after(async () => {
  await tp.stop();
});

test('regression: a list offset past 2^63 answered 500 (SQLite "datatype mismatch"); now 400 naming the parameter', async () => {
  for (const c of fixture.cases) {
    const res = await tp.api.request<{ error?: string; message?: string; items?: unknown[] }>(c.method, c.path);
    assert.equal(res.status, c.status, `${c.method} ${c.path}: ${JSON.stringify(res.body)}`);
    if (c.status === 400) {
      assert.equal(res.body.error, 'BAD_REQUEST');
      assert.match(res.body.message ?? '', /offset/);
    } else {
      assert.deepEqual(res.body.items, []);
    }
  }
});

interface RawCase {
  readonly bug: string;
  readonly raw: string;
  readonly status: number;
  readonly error: string;
}

const unparseable = JSON.parse(readFileSync(new URL('../fixtures/fuzz/http-unparseable.json', import.meta.url), 'utf8')) as { cases: RawCase[] };

/** Writes raw bytes on a new connection and reads until the server closes it. */
async function rawExchange(port: number, bytes: string): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.write(bytes);
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('utf8');
}

test('regression: a request the HTTP parser cannot read was answered without Connection: close and in Fastify\'s error shape (keep-alive clients then wrote into a dead socket)', async () => {
  for (const c of unparseable.cases) {
    const raw = c.raw.replace('{20000 x}', 'x'.repeat(20_000));
    const answer = await rawExchange(tp.ports.http, raw);
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    assert.match(head, new RegExp(`^HTTP/1.1 ${c.status} `), `${c.bug}: ${head}`);
    assert.match(head, /\r\nConnection: close\r\n/i, `${c.bug}: ${head}`);
    assert.equal((JSON.parse(body) as { error: string }).error, c.error, c.bug);
  }
  // The server still answers on new connections.
  assert.equal((await fetch(`${tp.baseUrl}/healthz`)).status, 200);
});

const shape = JSON.parse(readFileSync(new URL('../fixtures/fuzz/rest-error-shape.json', import.meta.url), 'utf8')) as { cases: Case[] };

test('regression: a URL with bad percent-encoding or an over-long path parameter got Fastify\'s error shape instead of the catalogue\'s', async () => {
  for (const c of shape.cases) {
    const path = c.path.replace('{5000 x}', 'x'.repeat(5000));
    const res = await tp.api.request<Record<string, unknown>>(c.method, path, c.method === 'GET' ? undefined : {});
    assert.equal(res.status, c.status, c.bug);
    assert.equal(res.body.error, 'BAD_REQUEST', `${c.bug}: ${JSON.stringify(res.body)}`);
    assert.deepEqual(Object.keys(res.body).sort(), ['error', 'message'], c.bug);
    assert.doesNotMatch(String(res.body.message), /%/, 'the URL is not quoted back');
  }
});
