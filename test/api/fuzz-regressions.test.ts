/**
 * REST requests the fuzzer (bench/fuzz) answered with a 5xx; kept in
 * test/fixtures/fuzz/rest-5xx.json and replayed here against a real platform.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
