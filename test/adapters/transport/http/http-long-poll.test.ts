/**
 * HTTP long polls for shared-attribute updates and server-side RPC: answered, timed out,
 * abandoned by the client, and ended when the server stops.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from './fake-device-api.js';
import { curl, curlMany, json, startHttp, type HttpHarness } from './helpers.js';

describe('HTTP device API: long polls', () => {
  let h: HttpHarness;
  before(async () => {
    h = await startHttp();
  });
  after(() => h.stop());

  it('answers an attributes long poll with the next shared-attribute update', async () => {
    const poll = curl([h.url('good/attributes/updates?timeout=3000')]);
    await waitFor(() => h.api.openSessions().some((s) => s.handlers.onSharedAttributes), 3000, 'poll session');
    const session = h.api.openSessions().at(-1);
    assert.deepEqual(session?.options, { persistent: false });
    assert.equal(session?.transport, 'http');
    h.api.emitShared({ values: { interval: 10 } });
    h.api.emitShared({ values: { mode: 'boost' }, deleted: ['old'] });
    const r = await poll;
    assert.equal(r.status, 200);
    assert.deepEqual(json(r), { interval: 10, mode: 'boost', deleted: ['old'] }, 'updates in one turn are merged');
    assert.equal(session?.closed, true);
    assert.equal(h.metrics.open, 0);
  });

  it('answers 408 when the timeout passes, and closes the session', async () => {
    const r = await curl([h.url('good/attributes/updates?timeout=200')]);
    assert.equal(r.status, 408);
    assert.equal(r.body, '');
    assert.ok(r.ms >= 200);
    assert.equal(h.api.openSessions().length, 0);
  });

  it('answers 401 to a long poll with a bad token and 400 to a bad timeout', async () => {
    assert.equal((await curl([h.url('bad/attributes/updates?timeout=200')])).status, 401);
    assert.equal((await curl([h.url('good/rpc?timeout=soon')])).status, 400);
  });

  it('delivers a server-side RPC to an RPC long poll, and takes the reply', async () => {
    const poll = curl([h.url('good/rpc?timeout=3000')]);
    await waitFor(() => h.api.openSessions().some((s) => s.handlers.onRpcRequest), 3000, 'rpc poll session');
    h.api.emitRpc({ id: 42, method: 'setGpio', params: { pin: 23, value: 1 } });
    const r = await poll;
    assert.equal(r.status, 200);
    assert.deepEqual(json(r), { id: 42, method: 'setGpio', params: { pin: 23, value: 1 } });
    assert.equal(h.api.openSessions().length, 0);
    const reply = await curl(['-X', 'POST', '-H', 'Content-Type: application/json', '-d', '{"result":"ok"}', h.url('good/rpc/42')]);
    assert.equal(reply.status, 200);
    assert.deepEqual(h.api.rpcResponses.at(-1), { id: 42, body: '{"result":"ok"}' });
    assert.equal((await curl(['-X', 'POST', '-d', '{}', h.url('good/rpc/x1')])).status, 400);
  });

  it('hands queued RPCs out one per poll, without losing any', async () => {
    h.api.emitRpc({ id: 1, method: 'a', params: null });
    h.api.emitRpc({ id: 2, method: 'b', params: null });
    const first = await curl([h.url('good/rpc?timeout=1000')]);
    const second = await curl([h.url('good/rpc?timeout=1000')]);
    assert.deepEqual([json(first), json(second)], [
      { id: 1, method: 'a', params: null },
      { id: 2, method: 'b', params: null },
    ]);
    assert.equal((await curl([h.url('good/rpc?timeout=100')])).status, 408);
  });

  it('closes the session when the client goes away', async () => {
    const gone = curl(['-m', '0.3', h.url('good/rpc?timeout=5000')]).catch(() => undefined);
    await waitFor(() => h.api.openSessions().length === 1, 3000, 'poll session');
    const session = h.api.openSessions()[0];
    await gone;
    await waitFor(() => session?.closed === true, 2000, 'session closed after disconnect');
    // An RPC after the disconnect is not swallowed by the dead poll.
    assert.equal(h.api.emitRpc({ id: 9, method: 'later', params: null }), false);
    assert.deepEqual(json(await curl([h.url('good/rpc?timeout=1000')])), { id: 9, method: 'later', params: null });
  });

  it('keeps the connection alive across a long poll and the next request', async () => {
    const out = await curlMany(['-w', '%{http_code} %{num_connects}\\n', '-o', '/dev/null', h.url('good/attributes/updates?timeout=150'), '-o', '/dev/null', h.url('good/attributes')]);
    assert.deepEqual(out.trim().split('\n'), ['408 1', '200 0']);
  });
});

describe('HTTP device API: stopping with a poll open', () => {
  it('ends open long polls instead of waiting for their timeout', async () => {
    const h = await startHttp();
    const poll = curl([h.url('good/rpc?timeout=60000')]);
    await waitFor(() => h.api.openSessions().length === 1, 3000, 'poll session');
    const started = Date.now();
    await h.stop();
    const r = await poll;
    assert.ok(Date.now() - started < 2000, 'close did not wait for the poll');
    assert.equal(r.status, 503);
    assert.equal(h.api.openSessions().length, 0);
  });
});
