/**
 * Issue 12, item 11: another process holding the SQLite lock froze the event loop (better-sqlite3
 * is synchronous; busy_timeout spun for 5 s) and then failed the waiting commits. Now the health
 * endpoints keep answering and acknowledgements wait until the lock is released.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { startTestPlatform, connectMqtt, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
before(async () => {
  tp = await startTestPlatform();
});
after(async () => {
  await tp.stop();
});

/**
 * A second process on the platform's file: a better-sqlite3 connection that takes the write lock
 * (BEGIN EXCLUSIVE), says "locked", and commits when it reads a line on stdin.
 */
async function holdLock(file: string): Promise<{ child: ChildProcess; release: () => Promise<void> }> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const script = `
    const db = new (require(${JSON.stringify(driver)}))(${JSON.stringify(file)});
    db.exec('BEGIN EXCLUSIVE');
    process.stdout.write('locked\\n');
    process.stdin.once('data', () => { db.exec('COMMIT'); db.close(); process.stdout.write('released\\n'); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [first] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  assert.equal(first.toString().trim(), 'locked');
  return {
    child,
    async release() {
      child.stdin?.write('go\n');
      await once(child, 'exit');
    },
  };
}

test('regression: a locked SQLite file freezes the event loop (health endpoint) and fails the commits waiting on it', async () => {
  const device = await tp.api.createDevice('lock-victim');
  const mqttClient = await connectMqtt(tp.ports.mqtt, { username: device.accessToken, protocolVersion: 5 });
  const lock = await holdLock(join(tp.dataDir, 'continuum.db'));
  let released = false;
  const settledWhileLocked: string[] = [];
  const note = (what: string) => () => {
    if (!released) settledWhileLocked.push(what);
  };

  const viaHttp = fetch(`${tp.baseUrl}/api/v1/${device.accessToken}/telemetry`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ httpDuringLock: 1 }),
  });
  void viaHttp.then(note('http'), note('http'));
  const viaMqtt = mqttClient.publishAsync('v1/devices/me/telemetry', JSON.stringify({ mqttDuringLock: 2 }), { qos: 1 });
  void viaMqtt.then(note('mqtt'), note('mqtt'));

  try {
    // The lock is held until we release it: every answer below came while it was held.
    for (let i = 0; i < 5; i++) {
      const health = await fetch(`${tp.baseUrl}/healthz`, { signal: AbortSignal.timeout(4000) });
      assert.equal(health.status, 200);
      assert.equal((await fetch(`${tp.baseUrl}/readyz`, { signal: AbortSignal.timeout(4000) })).status, 200);
    }
    assert.deepEqual(settledWhileLocked, [], 'acknowledgements wait for the lock');
  } finally {
    released = true;
    await lock.release();
  }
  const answer = await viaHttp;
  assert.equal(answer.status, 200, await answer.text());
  const puback = (await viaMqtt) as { reasonCode?: number } | undefined;
  assert.equal(puback?.reasonCode ?? 0, 0);
  await mqttClient.endAsync();

  const latest = await tp.api.request<Record<string, { value: unknown }>>('GET', `/api/devices/${device.id}/telemetry/latest`);
  assert.equal(latest.body.httpDuringLock?.value, 1);
  assert.equal(latest.body.mqttDuringLock?.value, 2);
});
