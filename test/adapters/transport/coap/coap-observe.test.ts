/**
 * CoAP Observe (shared attributes, server-side RPC) and message-layer behaviour: separate
 * responses for slow commits, duplicate CON requests, ping, RST ending an observation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../http/fake-device-api.js';
import { RawCoap, RunningClient, coapClient, optionValue, startCoap, uriPath, type CoapHarness } from './helpers.js';

describe('CoAP transport: observe and message layer', () => {
  let h: CoapHarness;
  before(async () => {
    h = await startCoap();
    h.api.commitDelayMs = 5;
  });
  after(() => h.stop());

  it('notifies shared-attribute updates to an observer, and ends the session on deregister', async () => {
    const client = new RunningClient(['-m', 'get', '-s', '3', h.url('good/attributes')]);
    try {
      await waitFor(() => h.api.openSessions().length === 1, 5000, 'observe session');
      const session = h.api.openSessions()[0];
      assert.equal(session?.transport, 'coap');
      assert.deepEqual(session?.options, { persistent: false });
      assert.equal(h.metrics.open, 1);
      // First answer: the current shared attributes (ThingsBoard does the same).
      await client.waitForOutput('"interval":30');
      h.api.emitShared({ values: { interval: 5 }, deleted: ['mode'] });
      await client.waitForOutput('{"interval":5,"deleted":["mode"]}');
      const note = client.lines().find((l) => l.payload === '{"interval":5,"deleted":["mode"]}');
      assert.equal(note?.code, '2.05');
      assert.equal(note?.type, 'CON', 'notifications are confirmable');
      assert.match(note?.options ?? '', /Observe:2/);
      await client.exited();
      // libcoap deregisters (GET with Observe: 1) when -s runs out.
      await waitFor(() => session?.closed === true, 3000, 'session closed');
      assert.equal(h.metrics.open, 0);
      assert.ok(h.metrics.outs.includes('coap:attributes_update'));
    } finally {
      client.kill();
    }
  });

  it('delivers a server-side RPC to an observer of /rpc, and takes the reply', async () => {
    const client = new RunningClient(['-m', 'get', '-s', '3', h.url('good/rpc')]);
    try {
      await waitFor(() => h.api.openSessions().some((s) => s.handlers.onRpcRequest), 5000, 'rpc session');
      assert.equal(h.api.emitRpc({ id: 7, method: 'setGpio', params: { pin: 23, value: 1 } }), true);
      await client.waitForOutput('{"id":7,"method":"setGpio","params":{"pin":23,"value":1}}');
      const reply = await coapClient(['-m', 'post', '-t', 'application/json', '-e', '{"result":"ok"}', h.url('good/rpc/7')]);
      assert.equal(reply.code, '2.04');
      assert.deepEqual(h.api.rpcResponses.at(-1), { id: 7, body: '{"result":"ok"}' });
      const badId = await coapClient(['-m', 'post', '-e', '{}', h.url('good/rpc/abc')]);
      assert.equal(badId.code, '4.00');
      await client.exited();
      // libcoap's trace is block-buffered on a pipe: read it once the client has exited.
      assert.equal(client.lines().find((l) => /Observe:1\b/.test(l.options) && l.type === 'ACK')?.code, '2.03');
    } finally {
      client.kill();
    }
  });

  it('delivers an RPC queued before the observer registered', async () => {
    h.api.emitRpc({ id: 8, method: 'reboot', params: null });
    const client = new RunningClient(['-m', 'get', '-s', '2', h.url('good/rpc')]);
    try {
      await client.waitForOutput('{"id":8,"method":"reboot","params":null}');
    } finally {
      client.kill();
    }
  });

  it('skips a notification too large for one datagram, keeps observing, and ends on RST', async () => {
    const raw = new RawCoap(h.port);
    await raw.bind();
    try {
      const token = Buffer.from('a1b2', 'hex');
      raw.send({ code: 'GET', messageId: 100, token, confirmable: true, options: [{ name: 'Observe', value: Buffer.of(0) }, ...uriPath('/api/v1/good/attributes')] });
      const first = await raw.next((p) => p.messageId === 100);
      assert.equal(first.code, '2.05');
      assert.equal(first.ack, true);
      assert.ok(optionValue(first, 'Observe'));
      const session = h.api.openSessions().at(-1);
      h.api.emitShared({ values: { huge: 'h'.repeat(2000) } });
      assert.ok(h.metrics.rejects.includes('coap:PAYLOAD_TOO_LARGE'));
      h.api.emitShared({ values: { x: 1 } });
      const note = await raw.next((p) => p.token.equals(token));
      assert.equal(note.payload.toString(), '{"x":1}');
      assert.equal(note.confirmable, true);
      raw.send({ code: '0.00', messageId: note.messageId, reset: true, confirmable: false });
      await waitFor(() => session?.closed === true, 2000, 'session closed after RST');
    } finally {
      raw.close();
    }
  });

  it('answers a CoAP ping with RST', async () => {
    const raw = new RawCoap(h.port);
    await raw.bind();
    try {
      raw.send({ code: '0.00', messageId: 4242, confirmable: true });
      const rst = await raw.next((p) => p.messageId === 4242);
      assert.equal(rst.reset, true);
    } finally {
      raw.close();
    }
  });

  it('stores a CON request retransmitted during its commit only once', async () => {
    h.api.commitDelayMs = 300;
    const raw = new RawCoap(h.port);
    await raw.bind();
    try {
      const before = h.api.published.length;
      const packet = {
        code: 'POST',
        messageId: 777,
        token: Buffer.from('07', 'hex'),
        confirmable: true,
        options: [...uriPath('/api/v1/good/telemetry'), { name: 'Content-Format' as const, value: Buffer.of(50) }],
        payload: Buffer.from('{"dup":1}'),
      };
      raw.send(packet);
      await new Promise((resolve) => setTimeout(resolve, 50));
      raw.send(packet);
      const ack = await raw.next((p) => p.messageId === 777);
      assert.equal(ack.code, '2.04');
      raw.send(packet); // after the answer: the dedup cache answers it (RFC 7252 §4.5)
      await raw.next((p) => p.messageId === 777);
      assert.equal(h.api.published.length - before, 1);
    } finally {
      raw.close();
      h.api.commitDelayMs = 5;
    }
  });
});

describe('CoAP transport: commit slower than the piggyback window', () => {
  let h: CoapHarness;
  before(async () => {
    h = await startCoap({ piggybackReplyMs: 100 });
  });
  after(() => h.stop());

  it('sends an empty ACK, then the 2.04 as a separate CON after the commit', async () => {
    h.api.commitDelayMs = 400;
    const raw = new RawCoap(h.port);
    await raw.bind();
    try {
      const token = Buffer.from('5107', 'hex');
      const sent = Date.now();
      raw.send({
        code: 'POST',
        messageId: 9001,
        token,
        confirmable: true,
        options: [...uriPath('/api/v1/good/telemetry'), { name: 'Content-Format', value: Buffer.of(50) }],
        payload: Buffer.from('{"slow":1}'),
      });
      const ack = await raw.next((p) => p.messageId === 9001);
      assert.deepEqual({ ack: ack.ack, code: ack.code, token: ack.token.length }, { ack: true, code: '0.00', token: 0 });
      assert.equal(h.api.published.length, 0, 'the empty ACK only says "received"');
      const res = await raw.next((p) => p.token.equals(token));
      assert.equal(res.code, '2.04');
      assert.equal(res.confirmable, true);
      assert.ok(Date.now() - sent >= 400);
      assert.equal(h.api.published.at(-1)?.body, '{"slow":1}');
      raw.send({ code: '0.00', messageId: res.messageId, ack: true });
    } finally {
      raw.close();
    }
    // libcoap accepts the separate response as the answer.
    const r = await coapClient(['-m', 'post', '-t', 'application/json', '-e', '{"slow":2}', h.url('good/telemetry')]);
    assert.equal(r.code, '2.04');
    assert.equal(r.responses.at(-1)?.type, 'CON');
    assert.equal(h.api.published.at(-1)?.body, '{"slow":2}');
  });
});

describe('CoAP transport: observation limits', () => {
  let h: CoapHarness;
  before(async () => {
    h = await startCoap();
  });
  after(() => h.stop());

  it('regression: one endpoint could register observations without limit; past the per-endpoint cap it gets 4.29', async () => {
    const greedy = new RawCoap(h.port);
    const other = new RawCoap(h.port);
    await greedy.bind();
    await other.bind();
    let messageId = 500;
    const register = async (raw: RawCoap, i: number): Promise<{ code: string; observing: boolean }> => {
      const mid = ++messageId;
      raw.send({ code: 'GET', messageId: mid, token: Buffer.from([0x70, i]), confirmable: true, options: [{ name: 'Observe', value: Buffer.of(0) }, ...uriPath('/api/v1/good/attributes')] });
      const answer = await raw.next((p) => p.messageId === mid);
      return { code: answer.code, observing: optionValue(answer, 'Observe') !== undefined };
    };
    try {
      const cap = h.config.coap.maxObservationsPerEndpoint;
      for (let i = 0; i < cap; i++) assert.deepEqual(await register(greedy, i), { code: '2.05', observing: true });
      assert.deepEqual(await register(greedy, cap), { code: '4.29', observing: false });
      // Re-registering an existing token is not a new observation; another endpoint is not affected.
      assert.deepEqual(await register(greedy, 0), { code: '2.05', observing: true });
      assert.deepEqual(await register(other, 0), { code: '2.05', observing: true });
    } finally {
      greedy.close();
      other.close();
    }
  });
});
