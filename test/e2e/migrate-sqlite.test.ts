/**
 * `continuum migrate --from-sqlite DIR --to-postgres URL` (issue 14, "Operations"): a single node
 * on SQLite gets devices, MQTT telemetry, a rule that raised an alarm, a user, a dashboard and a
 * command in its outbox; stopped, its data dir is migrated into a fresh PostgreSQL database (its
 * own, dropped afterwards); every table counts the same on both sides; the platform started on
 * PostgreSQL with that data dir authenticates the same device token, serves the telemetry, the
 * alarm and the user. A second run into the filled database is refused without --force.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../adapters/store/postgres-support.js';
import { main } from '../../src/apps/cli/main.js';
import { apiClient, connectMqtt, eventually, startTestPlatform, tempDir, ADMIN } from '../support/platform.js';

let db: TestDatabase;

before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db.drop();
});

function captureIo(): { io: Parameters<typeof main>[1]; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (s: string) => ((out += s), true) }, stderr: { write: (s: string) => ((err += s), true) }, env: {} } as unknown as Parameters<typeof main>[1],
    out: () => out,
    err: () => err,
  };
}

const BASE_TS = Date.now() - 3_600_000;

test('a SQLite data dir migrated to PostgreSQL: same counts, same device token, telemetry, alarm and user on the PostgreSQL node', async () => {
  const dataDir = tempDir();
  const single = await startTestPlatform({ dataDir });
  let stopped = false;
  try {
    const device = await single.api.createDevice('migrated-meter');
    const rule = await single.api.request('POST', '/api/rules', {
      name: 'Too hot',
      deviceId: device.id,
      trigger: 'telemetry',
      condition: 'temp > 30',
      actions: [{ type: 'alarm', alarmType: 'TooHot', severity: 'major' }],
    });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    assert.equal((await single.api.request('POST', '/api/users', { email: 'operator@migrate.test', password: 'operator-password-1', role: 'operator' })).status, 201);
    const dashboard = await single.api.request<{ id: string }>('POST', '/api/dashboards', { name: 'Plant', widgets: [{ type: 'chart', title: 'Temp', deviceId: device.id, keys: ['temp'], x: 0, y: 0, w: 6, h: 4 }] });
    assert.equal(dashboard.status, 201, JSON.stringify(dashboard.body));
    const client = await connectMqtt(single.ports.mqtt, { username: device.accessToken });
    try {
      // Points an hour apart in ts: several hourly roll-ups; the last one raises the alarm.
      for (let i = 0; i < 40; i++) {
        await client.publishAsync('v1/devices/me/telemetry', JSON.stringify({ ts: BASE_TS + i * 120_000, values: { temp: i, ok: i % 2 === 0, label: `p${i}` } }), { qos: 1 });
      }
    } finally {
      await client.endAsync();
    }
    await eventually(async () => {
      const res = await single.api.request<{ items: unknown[] }>('GET', `/api/alarms?deviceId=${device.id}`);
      return res.body.items.length > 0 ? true : undefined;
    }, 20_000, 'the alarm on the single node');
    // A persistent command for the offline device waits in the outbox: it must survive the move too.
    const command = await single.api.request<{ id: string; status: string }>('POST', `/api/devices/${device.id}/commands`, { method: 'reboot', params: {}, persistent: true, timeoutMs: 600_000 });
    assert.equal(command.status, 201, JSON.stringify(command.body));
    await single.stop();
    stopped = true;

    const run = captureIo();
    const code = await main(['migrate', '--from-sqlite', dataDir, '--to-postgres', db.url, '--batch-size', '7'], run.io);
    assert.equal(code, 0, `${run.out()}\n${run.err()}`);
    assert.match(run.out(), /verified: every table/);
    for (const table of ['devices', 'credentials', 'users', 'rules', 'rule_state', 'alarms', 'ts_kv', 'ts_latest', 'ts_hourly', 'dashboards', 'commands', 'audit_log']) {
      const line = run.out().split('\n').find((l) => l.startsWith(`${table} `));
      assert.ok(line, `a count line for ${table}`);
      const [, source, target, verdict] = line.trim().split(/\s+/);
      assert.equal(verdict, 'ok', line);
      assert.equal(source, target, line);
      if (['devices', 'ts_kv', 'alarms', 'rules', 'dashboards', 'commands'].includes(table)) assert.ok(Number(source) > 0, `${table} had rows: ${line}`);
    }
    assert.match(run.err(), /ts_kv: 120 rows/, 'progress lines name each table');

    // The PostgreSQL node on the same data dir: the credential key carried over with it.
    const pgNode = await startTestPlatform({ dataDir, config: { store: { kind: 'postgres', postgres: { url: db.url, poolSize: 4, statementTimeoutMs: 30_000 } } } });
    try {
      const posted = await fetch(`${pgNode.baseUrl}/api/v1/${device.accessToken}/telemetry`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ts: BASE_TS + 100 * 120_000, values: { temp: 1 } }),
      });
      assert.equal(posted.status, 200, 'the same device token authenticates on PostgreSQL');
      const series = await pgNode.api.request<Record<string, { ts: number; value: unknown }[]>>('GET', `/api/devices/${device.id}/telemetry?keys=temp,ok,label&from=${BASE_TS}&to=${BASE_TS + 39 * 120_000}&order=asc&limit=1000`);
      assert.equal(series.status, 200, JSON.stringify(series.body));
      assert.equal(series.body.temp?.length, 40);
      assert.deepEqual(series.body.ok?.slice(0, 2).map((p) => p.value), [true, false], 'booleans stay booleans');
      assert.equal(series.body.label?.[3]?.value, 'p3', 'strings stay strings');
      const alarms = await pgNode.api.request<{ items: { type: string }[] }>('GET', `/api/alarms?deviceId=${device.id}`);
      assert.deepEqual(alarms.body.items.map((a) => a.type), ['TooHot']);
      const stored = await pgNode.api.request<{ status: string; method: string }>('GET', `/api/commands/${command.body.id}`);
      assert.equal(stored.status, 200, JSON.stringify(stored.body));
      assert.equal(stored.body.method, 'reboot');
      const operator = await apiClient(pgNode.baseUrl, { email: 'operator@migrate.test', password: 'operator-password-1' });
      assert.equal((await operator.request('GET', `/api/devices/${device.id}`)).status, 200, 'the migrated user signs in');
      assert.equal((await pgNode.api.request('GET', `/api/dashboards/${dashboard.body.id}`)).status, 200);
      await apiClient(pgNode.baseUrl, ADMIN);
    } finally {
      await pgNode.stop();
    }

    // The target now holds data: refused without --force, emptied and filled again with it, the
    // key copied into a new node's data dir; that node authenticates the device too.
    const again = captureIo();
    assert.equal(await main(['migrate', '--from-sqlite', dataDir, '--to-postgres', db.url], again.io), 1);
    assert.match(again.err(), /not empty.*--force/);
    const newDir = tempDir();
    const forced = captureIo();
    assert.equal(await main(['migrate', '--from-sqlite', dataDir, '--to-postgres', db.url, '--force', '--to-data-dir', newDir], forced.io), 0, `${forced.out()}\n${forced.err()}`);
    assert.match(forced.out(), /verified/);
    assert.match(forced.err(), /credential key (and OTA package files )?copied to/);
    const newNode = await startTestPlatform({ dataDir: newDir, config: { store: { kind: 'postgres', postgres: { url: db.url, poolSize: 4, statementTimeoutMs: 30_000 } } } });
    try {
      const res = await fetch(`${newNode.baseUrl}/api/v1/${device.accessToken}/attributes`);
      assert.equal(res.status, 200, 'the token authenticates on a node with the copied key');
    } finally {
      await newNode.stop();
    }
  } finally {
    if (!stopped) await single.stop();
  }
});

test('migrate refuses a data dir a running node holds, and names a missing --to-postgres', async () => {
  const dataDir = tempDir();
  const running = await startTestPlatform({ dataDir });
  try {
    const locked = captureIo();
    assert.equal(await main(['migrate', '--from-sqlite', dataDir, '--to-postgres', db.url], locked.io), 1);
    assert.match(locked.err(), /lock|in use|running/i);
  } finally {
    await running.stop();
  }
  const missing = captureIo();
  assert.equal(await main(['migrate', '--from-sqlite', dataDir], missing.io), 1);
  assert.match(missing.err(), /--to-postgres URL/);
});
