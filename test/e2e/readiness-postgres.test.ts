/**
 * /readyz follows PostgreSQL and NATS reachability (issue 14, "Operations"): a platform on
 * PostgreSQL reached through a TCP relay this test owns, and on the machine's NATS under a prefix
 * of its own. Closing the relay (and cutting its connections) makes PostgreSQL unreachable:
 * /readyz answers 503 naming postgres, NATS still ok, /healthz still 200; the relay back on the
 * same port: 200 again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { createTestDatabase, type TestDatabase } from '../adapters/store/postgres-support.js';
import { deleteStreams, NATS_URL } from '../adapters/bus/nats-support.js';
import { eventually, startTestPlatform, type TestPlatform } from '../support/platform.js';

const PREFIX = `cr${randomBytes(4).toString('hex')}`;
let db: TestDatabase;
let tp: TestPlatform | undefined;

/** A relay 127.0.0.1:port → PostgreSQL at the test database's host and port. */
function relay(to: URL, port = 0): Promise<{ server: Server; port: number; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(to.port || 5432), to.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve({
        server,
        port: (server.address() as AddressInfo).port,
        cut: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const s of sockets) s.destroy();
          }),
      }),
    );
  });
}

before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await tp?.stop();
  await db.drop();
  await deleteStreams(`${PREFIX}_`);
});

test('/readyz: 503 {postgres: down, nats: ok} while PostgreSQL is unreachable, 200 once it is back; /healthz stays 200', async () => {
  const target = new URL(db.url);
  let link = await relay(target);
  const viaRelay = new URL(db.url);
  viaRelay.hostname = '127.0.0.1';
  viaRelay.port = String(link.port);
  tp = await startTestPlatform({
    config: {
      store: { kind: 'postgres', postgres: { url: viaRelay.toString(), poolSize: 2, statementTimeoutMs: 30_000 } },
      bus: { kind: 'nats', nats: { url: NATS_URL, prefix: PREFIX, partitions: 4, replicas: 1, ackWaitMs: 5000, maxAgeSeconds: 3600 } },
    },
  });
  const readyz = async (): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${tp?.baseUrl ?? ''}/readyz`);
    return { status: res.status, body: await res.json() };
  };
  assert.deepEqual(await readyz(), { status: 200, body: { status: 'ready', checks: { postgres: 'ok', nats: 'ok' } } });

  await link.cut();
  assert.deepEqual(await readyz(), { status: 503, body: { status: 'not ready', checks: { postgres: 'down', nats: 'ok' } } });
  assert.equal((await fetch(`${tp.baseUrl}/healthz`)).status, 200, 'liveness does not depend on PostgreSQL');

  link = await relay(target, link.port);
  // The pool opens a new connection on the next check: ready again.
  await eventually(async () => ((await readyz()).status === 200 ? true : undefined), 20_000, '/readyz back to 200');
  assert.deepEqual(await readyz(), { status: 200, body: { status: 'ready', checks: { postgres: 'ok', nats: 'ok' } } });
  await tp.stop();
  tp = undefined;
  await link.cut();
});
