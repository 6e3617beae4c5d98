/**
 * The live parts of the isolation matrix (issue 15): WebSocket subscriptions and MQTT. Foreign
 * subscriptions by id must be refused, and nothing a foreign device publishes may arrive, neither
 * on a WebSocket subscription to everything nor on any MQTT filter a device or an application of
 * another tenant (or another customer's device) can ask for.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type mqtt from 'mqtt';
import { connectMqtt } from './platform.js';
import { call, type Principal } from './isolation-fixtures.js';
import { isForeign, targetsOf, type CellResult, type Matrix, type TargetName } from './isolation-matrix.js';

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface LiveSocket {
  readonly messages: Record<string, unknown>[];
  readonly closed: () => boolean;
  request(body: Record<string, unknown>): Promise<Record<string, unknown>>;
  close(): void;
}

async function openSocket(baseUrl: string, bearer: string): Promise<LiveSocket | undefined> {
  const ws = new WebSocket(`${baseUrl.replace('http', 'ws')}/api/ws`, ['continuum.v1', `bearer.${bearer}`]);
  const messages: Record<string, unknown>[] = [];
  let closed = false;
  const waiting = new Map<unknown, (m: Record<string, unknown>) => void>();
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString()) as Record<string, unknown>;
    const resolve = waiting.get(m.id);
    if (resolve) {
      waiting.delete(m.id);
      resolve(m);
    } else messages.push(m);
  });
  ws.on('close', () => (closed = true));
  const opened = await new Promise<boolean>((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('error', () => resolve(false));
    ws.once('close', () => resolve(false));
  });
  if (!opened) return undefined;
  let next = 0;
  return {
    messages,
    closed: () => closed,
    request: (body) =>
      new Promise((resolve) => {
        const id = ++next;
        waiting.set(id, resolve);
        ws.send(JSON.stringify({ id, ...body }));
        // A socket closed by the server (a refused credential) answers nothing.
        setTimeout(() => {
          if (waiting.delete(id)) resolve({ id, error: { code: 'NO_ANSWER' } });
        }, 2000);
      }),
    close: () => ws.close(),
  };
}

/** Devices that publish in the live cells, with their tokens. */
function publishers(m: Matrix): { id: string; token: string; target: string }[] {
  const { tenants, customers } = m.fixtures;
  return [tenants.D, tenants.A, tenants.B, customers.C1, customers.C2].map((s) => ({ id: s.device!, token: s.deviceToken!, target: s.label }));
}

/** WebSocket cells: per principal and target, a subscription by device id, and the deliveries from that target's device. */
export async function runWsMatrix(m: Matrix): Promise<CellResult[]> {
  const results: CellResult[] = [];
  const sockets: { principal: Principal; socket: LiveSocket | undefined }[] = [];
  for (const principal of m.fixtures.principals) {
    const socket = await openSocket(m.baseUrl, principal.bearer);
    const targets = targetsOf(m, principal);
    for (const name of ['own', 'other-customer', 'other-tenant'] as TargetName[]) {
      const deviceId = targets[name].device!;
      const route = 'WS subscribe {type:telemetry, deviceId}';
      const answer = socket && !socket.closed() ? await socket.request({ subscribe: { type: 'telemetry', deviceId } }) : { error: { code: 'CLOSED' } };
      const accepted = 'result' in answer;
      const base = { principal: principal.name, route, target: name, status: accepted ? 200 : 404 };
      if (accepted && (isForeign(m, principal, deviceId) || principal.kind === 'device')) results.push({ ...base, leak: `subscribed to the foreign device ${deviceId}` });
      else results.push(base);
    }
    // And one subscription to everything the principal may see, for the delivery cells.
    if (socket && !socket.closed()) for (const type of ['telemetry', 'status', 'alarms', 'commands']) await socket.request({ subscribe: { type } });
    sockets.push({ principal, socket });
  }
  for (const p of publishers(m)) {
    const res = await call(m.baseUrl, undefined, 'POST', `/api/v1/${p.token}/telemetry`, { iso: 1 });
    if (res.status !== 200) throw new Error(`publish from ${p.target}: ${res.status} ${res.text}`);
  }
  await settle(1500);
  for (const { principal, socket } of sockets) {
    const targets = targetsOf(m, principal);
    for (const name of ['own', 'other-customer', 'other-tenant'] as TargetName[]) {
      const deviceId = targets[name].device!;
      const got = socket?.messages.filter((msg) => msg.deviceId === deviceId) ?? [];
      const base = { principal: principal.name, route: 'WS delivery of telemetry', target: name, status: got.length > 0 ? 200 : 404 };
      results.push(got.length > 0 && (isForeign(m, principal, deviceId) || principal.kind === 'device') ? { ...base, leak: `received ${got.length} events of the foreign device ${deviceId}` } : base);
    }
    socket?.close();
  }
  return results;
}

/** Filters a listener asks for: wildcards, shared subscriptions, device API topics, and the namespace of a same-named device. */
const DEVICE_FILTERS = ['#', 'devices/#', '$share/g/#', '$share/g/devices/#', 'v1/devices/me/attributes', 'v1/devices/me/rpc/request/+', 'v1/devices/me/attributes/response/+'];
const APP_FILTERS = ['#', 'devices/#', '$share/g/devices/#', 'devices/+/x', '+/+/+'];

async function listen(port: number, options: mqtt.IClientOptions, filters: string[]): Promise<{ client?: mqtt.MqttClient; received: string[] }> {
  const received: string[] = [];
  try {
    const client = await connectMqtt(port, { ...options, protocolVersion: 4 });
    client.on('message', (topic, payload) => received.push(`${topic} ${payload.toString()}`));
    client.on('error', () => undefined);
    for (const f of filters) await new Promise<void>((resolve) => client.subscribe(f, { qos: 0 }, () => resolve()));
    return { client, received };
  } catch {
    return { received };
  }
}

/**
 * MQTT cells: a device of B, an application client of B (an operator API key) and the device of
 * customer C2 subscribe every filter; devices of A (C1's among them, and one named like B's
 * listener, whose namespace topic is the same string) publish telemetry and on custom topics.
 */
export async function runMqttMatrix(m: Matrix, port: number): Promise<CellResult[]> {
  const { fixtures } = m;
  const twin = (await call(m.baseUrl, fixtures.owners.A, 'POST', '/api/devices', { name: 'B-listener' })).body as { accessToken: string };
  const filtersFor = (name: string) => [...DEVICE_FILTERS, `devices/${name}/#`];
  const listeners = [
    { name: 'B device', target: 'other-tenant' as const, filters: filtersFor('B-listener'), ...(await listen(port, { username: fixtures.bDevice.token, clientId: `iso-${randomUUID()}` }, filtersFor('B-listener'))) },
    { name: 'B app (API key)', target: 'other-tenant' as const, filters: [...APP_FILTERS, 'devices/B-listener/#'], ...(await listen(port, { username: 'apikey', password: fixtures.bAppKey, clientId: `iso-${randomUUID()}` }, [...APP_FILTERS, 'devices/B-listener/#'])) },
    { name: 'C2 device', target: 'other-customer' as const, filters: filtersFor('C1-device'), ...(await listen(port, { username: fixtures.customers.C2.deviceToken!, clientId: `iso-${randomUUID()}` }, filtersFor('C1-device'))) },
  ];
  const marker = `iso-${randomUUID()}`;
  const sources = [
    { token: fixtures.tenants.A.deviceToken!, name: 'A-device' },
    { token: fixtures.customers.C1.deviceToken!, name: 'C1-device' },
    { token: twin.accessToken, name: 'B-listener' },
  ];
  for (const s of sources) {
    const client = await connectMqtt(port, { username: s.token, clientId: `iso-${randomUUID()}`, protocolVersion: 4 });
    client.on('error', () => undefined);
    for (const topic of ['v1/devices/me/telemetry', `devices/${s.name}/x`, 'v1/devices/me/attributes']) {
      await new Promise<void>((resolve) => client.publish(topic, JSON.stringify({ marker }), { qos: 1 }, () => resolve()));
    }
    await client.endAsync();
  }
  // Server-side sends to A's devices (shared attributes reach v1/devices/me/attributes).
  await call(m.baseUrl, fixtures.owners.A, 'POST', `/api/devices/${fixtures.customers.C1.device}/attributes/shared`, { marker });
  await settle(1500);
  const results: CellResult[] = [];
  for (const l of listeners) {
    for (const filter of l.filters) {
      for (const s of sources) {
        const got = l.received.filter((r) => r.includes(marker) && matches(filter, r.split(' ')[0]!));
        const base = { principal: l.name, route: `MQTT subscribe ${filter} ← ${s.name}`, target: l.target, status: l.client ? 200 : 401 };
        results.push(got.length > 0 ? { ...base, leak: `received ${got.join(' | ')}` } : base);
      }
    }
    await l.client?.endAsync();
  }
  // Anything at all with the marker is a leak, whatever filter let it through.
  for (const l of listeners) {
    const stray = l.received.filter((r) => r.includes(marker));
    if (stray.length > 0 && !results.some((r) => r.principal === l.name && r.leak)) results.push({ principal: l.name, route: 'MQTT any filter', target: l.target, status: 200, leak: `received ${stray.join(' | ')}` });
  }
  return results;
}

/** Whether an MQTT topic matches a filter (shared-subscription prefix removed). */
function matches(filter: string, topic: string): boolean {
  const f = filter.startsWith('$share/') ? filter.split('/').slice(2).join('/') : filter;
  const fp = f.split('/');
  const tp = topic.split('/');
  for (let i = 0; i < fp.length; i++) {
    if (fp[i] === '#') return true;
    if (i >= tp.length) return false;
    if (fp[i] !== '+' && fp[i] !== tp[i]) return false;
  }
  return fp.length === tp.length;
}
