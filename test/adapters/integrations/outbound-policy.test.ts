/**
 * Regression (security): integration URLs skipped the outbound policy the webhooks pass, so an
 * admin could point a bridge or stream at the platform's host, its private network or the cloud
 * metadata address. Every connector type is checked at save (a literal refused address: 400
 * naming the host and the outbound.allow entry) and before it connects (a name resolving to a
 * refused address, or a policy narrowed since: status `refused`, nothing sent).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { lookup } from 'node:dns/promises';
import { randomUUID } from 'node:crypto';
import { eventually, metricsText, startTestPlatform, type TestPlatform } from '../../support/platform.js';

type Status = { status: { state: string; lastError?: string; sent: number } };

/** One config per connector type, pointing at `host` (the machine's real peers when allowed). */
function configs(host: string): { type: string; config: Record<string, unknown> }[] {
  const tag = `ct${randomUUID().slice(0, 8)}`;
  return [
    { type: 'mqtt-bridge', config: { url: `mqtt://${host}:1883`, direction: 'out', topic: `${tag}/{deviceName}` } },
    { type: 'nats', config: { servers: [`nats://${host}:4222`], stream: tag.toUpperCase(), subjectPrefix: tag, createStream: false } },
    { type: 'amqp', config: { url: `amqp://${host}:5672`, username: 'guest', password: 'guest', exchange: tag } },
  ];
}

async function state(p: TestPlatform, id: string): Promise<Status['status']> {
  return (await p.api.request<Status>('GET', `/api/integrations/${id}`)).body.status;
}

describe('integration URL outside the outbound allow-list is refused', () => {
  it('at save: a literal refused address is a 400 naming the host and the outbound.allow entry, for every connector type', async () => {
    const p = await startTestPlatform();
    try {
      for (const host of ['127.0.0.1', 'localhost', '169.254.169.254', '10.0.0.5', '[::1]']) {
        for (const { type, config } of configs(host)) {
          const res = await p.api.request<{ message: string }>('POST', '/api/integrations', { type, name: `${type} ${host}`, config });
          assert.equal(res.status, 400, `${type} ${host}: ${JSON.stringify(res.body)}`);
          const text = JSON.stringify(res.body);
          assert.match(text, /refused by the outbound policy/, `${type} ${host}`);
          assert.match(text, /outbound\.allow/, `${type} ${host}`);
        }
      }
      const res = await p.api.request('POST', '/api/integrations', { type: 'nats', name: 'n', config: configs('127.0.0.1')[1]?.config });
      assert.match(JSON.stringify(res.body), /127\.0\.0\.1:4222/, 'names the entry that would allow it');
      assert.deepEqual((await p.api.request<{ items: unknown[] }>('GET', '/api/integrations')).body.items, []);
    } finally {
      await p.stop();
    }
  });

  it('before connecting: a name that resolves to a refused address leaves every connector type refused, nothing sent', async () => {
    const name = hostname();
    // This machine's own name resolves to loopback (/etc/hosts); that is the point of the test.
    const { address } = await lookup(name);
    assert.match(address, /^(127\.|::1$|10\.|172\.|192\.168\.)/, `${name} resolves to ${address}`);
    const p = await startTestPlatform();
    try {
      const device = await p.api.createDevice(`dev-${randomUUID().slice(0, 6)}`);
      const ids: string[] = [];
      for (const { type, config } of configs(name)) {
        const res = await p.api.request<{ id: string }>('POST', '/api/integrations', { type, name: `${type} by name`, config });
        assert.equal(res.status, 201, `${type}: a name is judged by its addresses, at connect time: ${JSON.stringify(res.body)}`);
        ids.push(res.body.id);
      }
      await fetch(`${p.baseUrl}/api/v1/${device.accessToken}/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"t":1}' });
      for (const id of ids) {
        const s = await eventually(async () => {
          const st = await state(p, id);
          return st.state === 'refused' ? st : undefined;
        }, 10_000, `integration ${id} refused`);
        assert.match(s.lastError ?? '', /refused by outbound policy: .*127\.0\.0\.1 is a loopback address; allow it with an outbound\.allow entry/);
        assert.equal(s.sent, 0);
      }
      assert.match(await metricsText(p.baseUrl), /continuum_outbound_refused_total\{reason="loopback"\} [3-9]/);
    } finally {
      await p.stop();
    }
  });

  it('before connecting: an integration saved while allowed is refused after the policy no longer allows it, for every connector type', async () => {
    const allowed = await startTestPlatform({ config: { outbound: { allow: ['127.0.0.1'] } } });
    const ids: string[] = [];
    try {
      for (const { type, config } of configs('127.0.0.1')) {
        const res = await allowed.api.request<{ id: string }>('POST', '/api/integrations', { type, name: `${type} allowed`, config });
        assert.equal(res.status, 201, `${type}: ${JSON.stringify(res.body)}`);
        ids.push(res.body.id);
      }
      // Allowed: the machine's Mosquitto takes the bridge (the policy let the connection through).
      const [bridge] = ids;
      await eventually(async () => ((await state(allowed, bridge as string)).state === 'connected' ? true : undefined), 10_000, 'bridge connected while allowed');
    } finally {
      await allowed.stop();
    }
    const narrowed = await startTestPlatform({ dataDir: allowed.dataDir });
    try {
      for (const id of ids) {
        const s = await eventually(async () => {
          const st = await state(narrowed, id);
          return st.state === 'refused' ? st : undefined;
        }, 10_000, `integration ${id} refused after restart`);
        assert.match(s.lastError ?? '', /refused by outbound policy/);
      }
    } finally {
      await narrowed.stop();
    }
  });
});
