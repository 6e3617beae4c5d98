/**
 * CoAP device API request/response resources against libcoap's coap-client, over loopback.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { createCoapTransport } from '../../../../src/adapters/transport/coap/index.js';
import { countingMetrics, recordingLogger } from '../http/fake-device-api.js';
import { coapClient, startCoap, tmpFile, type CoapHarness } from './helpers.js';

describe('CoAP transport: requests', () => {
  let h: CoapHarness;
  before(async () => {
    h = await startCoap();
  });
  after(() => h.stop());

  it('answers a CON telemetry POST with a piggybacked 2.04 only after the commit', async () => {
    h.api.commitDelayMs = 150;
    const before = h.api.published.length;
    const r = await coapClient(['-m', 'post', '-t', 'application/json', '-e', '{"temperature":25}', h.url('good/telemetry')]);
    assert.equal(r.code, '2.04', r.stdout + r.stderr);
    assert.equal(r.responses.length, 1);
    assert.equal(r.responses[0]?.type, 'ACK', 'the ACK itself carries the response');
    assert.ok(r.ms >= 150, `answered after ${r.ms} ms, before the commit`);
    const stored = h.api.published.slice(before);
    assert.equal(stored.length, 1);
    assert.deepEqual(
      { kind: stored[0]?.kind, body: stored[0]?.body, transport: stored[0]?.transport, ct: stored[0]?.contentType },
      { kind: 'telemetry', body: '{"temperature":25}', transport: 'coap', ct: 'application/json' },
    );
    h.api.commitDelayMs = 5;
  });

  it('passes SenML JSON (110) through and treats no Content-Format as the profile codec', async () => {
    const senml = await coapClient(['-m', 'post', '-t', '110', '-e', '[{"n":"t","v":1}]', h.url('good/telemetry')]);
    assert.equal(senml.code, '2.04');
    assert.equal(h.api.published.at(-1)?.contentType, 'application/senml+json');
    const none = await coapClient(['-m', 'post', '-e', '{"a":1}', h.url('good/telemetry')]);
    assert.equal(none.code, '2.04');
    assert.equal(h.api.published.at(-1)?.contentType, undefined);
  });

  it('stores client attributes with 2.04', async () => {
    const r = await coapClient(['-m', 'post', '-t', 'application/json', '-e', '{"fw":"2.0"}', h.url('good/attributes')]);
    assert.equal(r.code, '2.04');
    assert.equal(h.api.published.at(-1)?.kind, 'attributes');
  });

  it('rejects an unknown token with 4.01, counts and logs it with the token prefix', async () => {
    const r = await coapClient(['-m', 'post', '-t', 'application/json', '-e', '{"a":1}', h.url('nosuchtoken/telemetry')]);
    assert.equal(r.code, '4.01');
    assert.ok(h.metrics.rejects.includes('coap:UNAUTHORIZED'));
    const log = h.logger.records.find((l) => l.level === 'warn' && (l.obj as { token?: string }).token === 'nosu…');
    assert.ok(log, 'reject logged with the token prefix');
    assert.equal((log.obj as { code?: string }).code, '4.01');
  });

  it('answers malformed JSON with 4.00', async () => {
    const r = await coapClient(['-m', 'post', '-t', 'application/json', '-e', '{"a":', h.url('good/telemetry')]);
    assert.equal(r.code, '4.00');
  });

  it('answers a payload over limits.maxPayloadBytes with 4.13', async () => {
    const file = tmpFile('too-big.json', JSON.stringify({ blob: 'x'.repeat(5000) }));
    const r = await coapClient(['-m', 'post', '-t', 'application/json', '-f', file, h.url('good/telemetry')]);
    assert.equal(r.code, '4.13', r.stdout.slice(-500));
    // A single datagram over the limit, without block-wise transfer.
    const big = await startCoap({ maxPayloadBytes: 64 });
    try {
      const one = await coapClient(['-m', 'post', '-t', 'application/json', '-e', JSON.stringify({ v: 'y'.repeat(100) }), big.url('good/telemetry')]);
      assert.equal(one.code, '4.13');
      assert.ok(big.metrics.rejects.includes('coap:PAYLOAD_TOO_LARGE'));
    } finally {
      await big.stop();
    }
  });

  it('answers other Content-Formats with 4.15', async () => {
    const r = await coapClient(['-m', 'post', '-t', 'application/cbor', '-e', 'xx', h.url('good/telemetry')]);
    assert.equal(r.code, '4.15');
  });

  it('answers unknown paths with 4.04 and wrong methods with 4.05', async () => {
    assert.equal((await coapClient(['-m', 'post', '-e', '{}', h.url('good/nothing')])).code, '4.04');
    assert.equal((await coapClient(['-m', 'get', `coap://127.0.0.1:${h.port}/other`])).code, '4.04');
    assert.equal((await coapClient(['-m', 'get', h.url('good/telemetry')])).code, '4.05');
    assert.equal((await coapClient(['-m', 'delete', h.url('good/attributes')])).code, '4.05');
  });

  it('returns requested client and shared attributes', async () => {
    const r = await coapClient(['-m', 'get', h.url('good/attributes?clientKeys=fw,model&sharedKeys=mode')]);
    assert.equal(r.code, '2.05');
    assert.deepEqual(JSON.parse(r.responses.at(-1)?.payload ?? ''), { client: { fw: '1.0', model: 'T1' }, shared: { mode: 'eco' } });
    const all = await coapClient(['-m', 'get', h.url('good/attributes')]);
    assert.deepEqual(JSON.parse(all.responses.at(-1)?.payload ?? ''), { client: h.api.client, shared: h.api.shared });
  });

  it('serves an attribute answer larger than one datagram block-wise (Block2)', async () => {
    const saved = { ...h.api.shared };
    for (let i = 0; i < 150; i++) h.api.shared[`key_${i}`] = `value-${'v'.repeat(20)}-${i}`;
    try {
      const expected = JSON.stringify({ client: h.api.client, shared: h.api.shared });
      assert.ok(expected.length > 4000);
      for (const size of ['64', '1024']) {
        const r = await coapClient(['-v', '3', '-b', size, '-m', 'get', h.url('good/attributes')]);
        assert.equal(r.stdout.trim(), expected, `block size ${size}`);
      }
    } finally {
      h.api.shared = saved;
    }
  });

  it('answers client-side RPC with 2.05 and the result', async () => {
    const r = await coapClient(['-m', 'post', '-t', 'application/json', '-e', '{"method":"getTime","params":{"tz":"UTC"}}', h.url('good/rpc')]);
    assert.equal(r.code, '2.05');
    assert.deepEqual(JSON.parse(r.responses.at(-1)?.payload ?? ''), { time: 1_700_000_000_000, echo: { tz: 'UTC' } });
    const unknown = await coapClient(['-m', 'post', '-t', 'application/json', '-e', '{"method":"nope"}', h.url('good/rpc')]);
    assert.equal(unknown.code, '4.04');
    const bad = await coapClient(['-m', 'post', '-t', 'application/json', '-e', '{"params":1}', h.url('good/rpc')]);
    assert.equal(bad.code, '4.00');
  });

  it('provisions a device', async () => {
    const body = { deviceName: 'new-1', provisionDeviceKey: 'pk', provisionDeviceSecret: 'ps' };
    const r = await coapClient(['-m', 'post', '-t', 'application/json', '-e', JSON.stringify(body), `coap://127.0.0.1:${h.port}/api/v1/provision`]);
    assert.equal(r.code, '2.05');
    assert.deepEqual(JSON.parse(r.responses.at(-1)?.payload ?? ''), { status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: 'new-token' });
    assert.equal(h.api.provisions.at(-1)?.deviceName, 'new-1');
    const wrong = await coapClient(['-m', 'post', '-e', '{"provisionDeviceKey":"pk","provisionDeviceSecret":"no"}', `coap://127.0.0.1:${h.port}/api/v1/provision`]);
    assert.equal(JSON.parse(wrong.responses.at(-1)?.payload ?? '').status, 'NOT_FOUND');
  });

  it('survives random bytes on the UDP port and keeps serving', async () => {
    const sock = createSocket('udp4');
    const junk = [Buffer.from([0xff, 0x00, 0x13]), Buffer.alloc(0), Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.from([0x40, 0x01])];
    for (let i = 0; i < 50; i++) junk.push(Buffer.from(Array.from({ length: 1 + (i % 40) }, (_, j) => (i * 31 + j * 17) & 0xff)));
    await Promise.all(junk.map((b) => new Promise<void>((resolve) => sock.send(b, h.port, '127.0.0.1', () => resolve()))));
    sock.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const r = await coapClient(['-m', 'post', '-t', 'application/json', '-e', '{"after":"junk"}', h.url('good/telemetry')]);
    assert.equal(r.code, '2.04');
    assert.ok(h.metrics.rejects.includes('coap:MALFORMED_PACKET'));
  });

  it('refuses a taken port with one line naming --coap-port', async () => {
    const other = createCoapTransport({
      config: { ...h.config, coap: { ...h.config.coap, port: h.port } },
      deviceApi: h.api,
      metrics: countingMetrics(),
      logger: recordingLogger(),
    });
    await assert.rejects(other.start(), (err: Error) => {
      assert.match(err.message, /--coap-port/);
      assert.equal(err.message.includes('\n'), false);
      return true;
    });
  });
});
