/**
 * Streams out against the machine's servers: NATS JetStream at 4222 (own stream, deleted after)
 * and RabbitMQ at 5672 guest/guest (own exchange and queue, deleted after).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import amqp from 'amqplib';
import { DEFAULT_TENANT_ID } from '../../../src/domain/device.js';
import { spawn } from 'node:child_process';
import { tempDir } from '../../support/tmp.js';
import { freePort } from './mosquitto.js';
import { eventually, startTestPlatform, type TestPlatform } from '../../support/platform.js';

// The remotes run on this host: the outbound policy refuses loopback unless allowed.
const LOCAL_PEERS = { outbound: { allow: ['127.0.0.1'] } };

async function postTelemetry(p: TestPlatform, token: string, body: unknown): Promise<void> {
  const res = await fetch(`${p.baseUrl}/api/v1/${token}/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.text());
}

async function state(p: TestPlatform, id: string): Promise<{ state: string; backlog: number; sent: number; lastError?: string }> {
  return (await p.api.request<{ status: { state: string; backlog: number; sent: number } }>('GET', `/api/integrations/${id}`)).body.status;
}

describe('streams out', () => {
  let p: TestPlatform;
  before(async () => {
    p = await startTestPlatform({ config: LOCAL_PEERS });
  });
  after(async () => {
    await p.stop();
  });

  it('NATS JetStream: telemetry and attributes of the filtered device land in the stream (another device’s do not), each once, with a de-duplication id', async () => {
    const tag = randomUUID().slice(0, 8);
    const stream = `CT_${tag}`;
    const nc: NatsConnection = await connect({ servers: '127.0.0.1:4222' });
    const jsm = await nc.jetstreamManager();
    const wanted = await p.api.createDevice(`n-${tag}`);
    const other = await p.api.createDevice(`o-${tag}`);
    let id = '';
    try {
      const created = await p.api.request<{ id: string }>('POST', '/api/integrations', {
        type: 'nats',
        name: `nats ${tag}`,
        config: { servers: ['nats://127.0.0.1:4222'], stream, subjectPrefix: `ct.${tag}` },
        filter: { devices: [wanted.id], events: ['telemetry', 'attributes', 'alarm'] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      id = created.body.id;
      await eventually(async () => ((await state(p, id)).state === 'connected' ? true : undefined), 10_000, 'connected');
      await postTelemetry(p, wanted.accessToken, { t: 1 });
      await postTelemetry(p, other.accessToken, { t: 2 });
      await fetch(`${p.baseUrl}/api/v1/${wanted.accessToken}/attributes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fw: '1.2' }) });
      await postTelemetry(p, wanted.accessToken, { t: 3 });
      await eventually(async () => ((await state(p, id)).sent >= 3 ? true : undefined), 10_000, 'three sent');
      const info = await jsm.streams.info(stream);
      assert.equal(info.state.messages, 3);
      const js = nc.jetstream();
      const first = await js.streams.get(stream).then((s) => s.getMessage({ seq: 1 }));
      assert.equal(first.subject, `ct.${tag}.telemetry.${DEFAULT_TENANT_ID}.${wanted.id}`);
      assert.deepEqual(first.json<{ values: unknown }>().values, { t: 1 });
      const second = await js.streams.get(stream).then((s) => s.getMessage({ seq: 2 }));
      assert.equal(second.json<{ event: string; values: unknown }>().event, 'attributes');
      assert.ok(second.header?.get('Nats-Msg-Id'), 'a message id for de-duplication');
    } finally {
      if (id) await p.api.request('DELETE', `/api/integrations/${id}`);
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
    }
  });

  it('AMQP: committed telemetry is confirmed into the exchange and queued in order, routing key event.tenant.device; the password is never answered', async () => {
    const tag = randomUUID().slice(0, 8);
    const exchange = `ct.${tag}`;
    const queue = `ct.${tag}.q`;
    const device = await p.api.createDevice(`a-${tag}`);
    const conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    const ch = await conn.createChannel();
    let id = '';
    try {
      const created = await p.api.request<{ id: string; config: Record<string, unknown>; secretsSet: string[] }>('POST', '/api/integrations', {
        type: 'amqp',
        name: `amqp ${tag}`,
        config: { url: 'amqp://127.0.0.1:5672', username: 'guest', password: 'guest', exchange, queue },
        filter: { events: ['telemetry'] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.config.password, undefined);
      assert.deepEqual(created.body.secretsSet, ['password']);
      id = created.body.id;
      await eventually(async () => ((await state(p, id)).state === 'connected' ? true : undefined), 10_000, 'connected');
      for (let i = 0; i < 10; i++) await postTelemetry(p, device.accessToken, { i });
      await eventually(async () => ((await state(p, id)).sent >= 10 ? true : undefined), 10_000, 'ten confirmed');
      const got: { key: string; body: { values: { i: number }; deviceName: string } }[] = [];
      for (;;) {
        const m = await ch.get(queue, { noAck: true });
        if (m === false) break;
        got.push({ key: m.fields.routingKey, body: JSON.parse(m.content.toString()) as (typeof got)[number]['body'] });
      }
      assert.equal(got.length, 10);
      assert.deepEqual(got.map((g) => g.body.values.i), [...Array(10).keys()]);
      assert.match(got[0]?.key ?? '', new RegExp(`^telemetry\\.[0-9a-f-]+\\.${device.id}$`));
      assert.equal(got[0]?.body.deviceName, `a-${tag}`);
    } finally {
      if (id) await p.api.request('DELETE', `/api/integrations/${id}`);
      await ch.deleteQueue(queue).catch(() => undefined);
      await ch.deleteExchange(exchange).catch(() => undefined);
      await conn.close();
    }
  });

  it('NATS away, then a restart: the persisted cursor resumes and every record reaches the stream once it is up (a nats-server of our own on a free port)', async () => {
    const own = await startTestPlatform({ config: LOCAL_PEERS });
    let restarted: TestPlatform | undefined;
    const port = await freePort();
    const stream = `CT_AWAY_${randomUUID().slice(0, 8)}`;
    let server: ReturnType<typeof spawn> | undefined;
    try {
      const device = await own.api.createDevice('away');
      const created = await own.api.request<{ id: string }>('POST', '/api/integrations', {
        type: 'nats',
        name: 'away',
        config: { servers: [`nats://127.0.0.1:${port}`], stream, subjectPrefix: stream.toLowerCase() },
        filter: { events: ['telemetry'] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      for (let i = 0; i < 8; i++) await postTelemetry(own, device.accessToken, { i });
      await eventually(async () => ((await state(own, created.body.id)).backlog === 8 ? true : undefined), 10_000, 'backlog 8');
      await own.stop();
      restarted = await startTestPlatform({ dataDir: own.dataDir, config: LOCAL_PEERS });
      server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', tempDir()], { stdio: 'ignore' });
      const p2 = restarted;
      await eventually(async () => ((await state(p2, created.body.id)).backlog === 0 ? true : undefined), 20_000, 'drained into NATS');
      const nc = await connect({ servers: `127.0.0.1:${port}` });
      try {
        const info = await (await nc.jetstreamManager()).streams.info(stream);
        assert.equal(info.state.messages, 8);
      } finally {
        await nc.close();
      }
    } finally {
      await restarted?.stop();
      if (!restarted) await own.stop().catch(() => undefined);
      server?.kill('SIGTERM');
    }
  });
});
