/**
 * Regression: the edge announced its children without their configured `type`
 * (`v1/gateway/connect {"device"}` only), so a child the platform created on first sight got
 * the default profile and the rules bound to its profile never saw it. The ThingsBoard gateway
 * API's connect carries `{"device", "type"}`; the platform makes `type` the new child's profile.
 * Real peers: the platform in process, the edge's SMS connector bound to the simulated SMSC
 * (an SMS child counts as connected while its connector runs, so it is announced at once).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEdge, type Edge } from '../../src/edge/app.js';
import { parseEdgeConfig } from '../../src/edge/config.js';
import type { EdgeLogger } from '../../src/edge/ports.js';
import { startSmscSimulator, type SmscSimulator } from '../../src/simulator/sms/smsc.js';
import { startTestPlatform, eventually, tempDir, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
let smsc: SmscSimulator;
let edge: Edge;
let gatewayId: string;
const logger: EdgeLogger = { debug() {}, info() {}, warn() {}, error() {} };

const sms = (devices: object[]) => ({
  type: 'sms',
  name: 'gsm',
  transport: 'smpp',
  smpp: { host: '127.0.0.1', port: smsc.port, systemId: 'edge-type', password: 'secret', reconnect: { minMs: 100, maxMs: 300 } },
  devices,
});

interface DeviceBody {
  id: string;
  name: string;
  online: boolean;
  profileId: string;
  gatewayId?: string;
}

/** The child the gateway created, once it is online. */
async function createdChild(name: string): Promise<DeviceBody> {
  return eventually(async () => {
    const res = await tp.api.request<{ items: DeviceBody[] }>('GET', `/api/devices?search=${encodeURIComponent(name)}`);
    return res.body.items.find((d) => d.name === name && d.gatewayId === gatewayId && d.online);
  }, 15_000, `${name} created by the gateway`);
}

async function profileName(id: string): Promise<string> {
  const res = await tp.api.request<{ name: string }>('GET', `/api/profiles/${id}`);
  assert.equal(res.status, 200);
  return res.body.name;
}

before(async () => {
  tp = await startTestPlatform();
  smsc = await startSmscSimulator({ systemId: 'edge-type', password: 'secret' });
  const gw = await tp.api.createDevice('edge-child-type', { gateway: true });
  gatewayId = gw.id;
  const file = JSON.stringify({
    platform: { url: `mqtt://127.0.0.1:${tp.ports.mqtt}`, token: gw.accessToken, reconnectMs: 100, reconnectMaxMs: 300 },
    connectors: [
      sms([
        { name: 'tracker-typed', number: '+491700000301', type: 'gsm-tracker' },
        { name: 'tracker-untyped', number: '+491700000302' },
      ]),
    ],
  });
  edge = await startEdge({ config: parseEdgeConfig(file, {}), dataDir: tempDir(), logger });
});

after(async () => {
  await edge?.stop();
  await smsc?.close();
  await tp?.stop();
});

test('child announced without its configured type: the platform now creates it with that profile', async () => {
  const typed = await createdChild('tracker-typed');
  assert.equal(await profileName(typed.profileId), 'gsm-tracker');
  const untyped = await createdChild('tracker-untyped');
  assert.notEqual(untyped.profileId, typed.profileId, 'no type: the default profile, not the typed one');
});

test('a child added by a configuration push is announced with its type', async () => {
  const res = await tp.api.request('PUT', `/api/devices/${gatewayId}/edge-config`, {
    connectors: [
      sms([
        { name: 'tracker-typed', number: '+491700000301', type: 'gsm-tracker' },
        { name: 'tracker-untyped', number: '+491700000302' },
        { name: 'pump-pushed', number: '+491700000303', type: 'gsm-pump' },
      ]),
    ],
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const pushed = await createdChild('pump-pushed');
  assert.equal(await profileName(pushed.profileId), 'gsm-pump');
});
