/**
 * The whole platform on the PostgreSQL store (issue 14 item 1), started the way users start it
 * (`continuum start --store postgres --postgres URL`, a child process, port 0) on a database of its
 * own: it starts (ports.json written), takes telemetry over MQTT QoS 1 and answers it over REST,
 * keeps it across a restart, and tenants, customers and customer users work on it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '../adapters/store/postgres-support.js';
import { apiClient, spawnServer, tempDir, waitForExit, type ApiClient, type ServerProcess } from '../support/platform.js';

const run = promisify(execFile);
const PASSWORD = 'pg-e2e-password-1';
let db: TestDatabase;
let dataDir: string;
let server: ServerProcess | undefined;

async function start(): Promise<{ server: ServerProcess; api: ApiClient }> {
  rmSync(join(dataDir, 'ports.json'), { force: true });
  server = await spawnServer(dataDir, ['--store', 'postgres', '--postgres', db.url]);
  return { server, api: await apiClient(`http://127.0.0.1:${server.ports.http}`) };
}

async function stop(): Promise<void> {
  if (!server) return;
  server.child.kill('SIGTERM');
  await waitForExit(server.child);
  server = undefined;
}

before(async () => {
  db = await createTestDatabase();
  dataDir = tempDir();
});
after(async () => {
  await stop();
  await db.drop();
});

// A minute ago: device timestamps far in the future are refused.
const BASE_TS = Date.now() - 60_000;
type Series = Record<string, { ts: number; value: unknown }[]>;
const readSeries = async (api: ApiClient, id: string): Promise<Series> => {
  const res = await api.request<Series>('GET', `/api/devices/${id}/telemetry?keys=temp&from=${BASE_TS}&to=${BASE_TS + 10}&order=asc`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
};

test('starts on postgres, stores MQTT QoS 1 telemetry, and still has it after a restart', async () => {
  const first = await start();
  const device = await first.api.createDevice('pg-meter');
  for (const [i, temp] of [21.5, 22, 22.5].entries()) {
    await run('mosquitto_pub', [
      '-h', '127.0.0.1', '-p', String(first.server.ports.mqtt), '-q', '1', '-u', device.accessToken,
      '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify({ ts: BASE_TS + i, values: { temp } }),
    ]);
  }
  // QoS 1 was acknowledged after the commit: the points are there at once.
  const expected = { temp: [{ ts: BASE_TS, value: 21.5 }, { ts: BASE_TS + 1, value: 22 }, { ts: BASE_TS + 2, value: 22.5 }] };
  assert.deepEqual(await readSeries(first.api, device.id), expected);
  await stop();

  const second = await start();
  assert.deepEqual(await readSeries(second.api, device.id), expected, 'telemetry survives the restart');
  const again = await second.api.request<{ name: string }>('GET', `/api/devices/${device.id}`);
  assert.equal(again.body.name, 'pg-meter');
});

test('a tenant with its admin, a customer and a customer user work on postgres', async () => {
  const { server: s, api: sysadmin } = server ? { server, api: await apiClient(`http://127.0.0.1:${server.ports.http}`) } : await start();
  const baseUrl = `http://127.0.0.1:${s.ports.http}`;
  const tenant = await sysadmin.request<{ id: string; status: string }>('POST', '/api/tenants', { name: 'PG Tenant' });
  assert.equal(tenant.status, 201, JSON.stringify(tenant.body));
  assert.equal(tenant.body.status, 'active');
  const admin = await sysadmin.request('POST', `/api/tenants/${tenant.body.id}/users`, { email: 'ta@pg.test', password: PASSWORD, role: 'tenant-admin' });
  assert.equal(admin.status, 201, JSON.stringify(admin.body));
  const ta = await apiClient(baseUrl, { email: 'ta@pg.test', password: PASSWORD });

  const customer = await ta.request<{ id: string }>('POST', '/api/customers', { name: 'Household' });
  assert.equal(customer.status, 201, JSON.stringify(customer.body));
  const mine = await ta.createDevice('household-meter');
  const other = await ta.createDevice('other-meter');
  assert.equal((await ta.request('POST', `/api/customers/${customer.body.id}/devices`, { deviceIds: [mine.id] })).status, 204);
  const user = await ta.request('POST', '/api/users', { email: 'cu@pg.test', password: PASSWORD, role: 'customer-user', customerId: customer.body.id });
  assert.equal(user.status, 201, JSON.stringify(user.body));

  const cu = await apiClient(baseUrl, { email: 'cu@pg.test', password: PASSWORD });
  const list = await cu.request<{ items: { name: string }[]; total: number }>('GET', '/api/devices?limit=100');
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.items.map((d) => d.name), ['household-meter']);
  assert.equal((await cu.request('GET', `/api/devices/${other.id}`)).status, 404);
  // The tenants stay apart: the default tenant's admin does not see the new tenant's devices.
  assert.equal((await sysadmin.request('GET', `/api/devices/${mine.id}`)).status, 404);
  const tenants = await sysadmin.request<{ name: string }[]>('GET', '/api/tenants');
  assert.deepEqual(tenants.body.map((t) => t.name).sort(), ['Default', 'PG Tenant']);
});
