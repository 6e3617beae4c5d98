/**
 * Three rule engines as three cluster nodes (one test process; each with its own NATS bus
 * connection, PostgreSQL pool, coordinator and node id) on the machine's NATS and PostgreSQL:
 * every partition has exactly one owner; one node dies mid-stream (its coordinator stops without
 * releasing, its bus connection closes, its engine keeps running with its stale state as a paused
 * process would) and its partitions are taken over after the lease ttl; every rule edge fires
 * exactly once in the cluster (firing keys, alarm raises and clears, rule commands counted).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { NatsBus } from '../../../src/adapters/bus/nats/index.js';
import { createPostgresStore, type PostgresStore } from '../../../src/adapters/store/postgres/index.js';
import type { Command, CommandApi, SendCommand } from '../../../src/domain/action-apis.js';
import { isPlatformError } from '../../../src/domain/errors.js';
import { subjectFor } from '../../../src/domain/subjects.js';
import { PartitionCoordinator } from '../../../src/services/cluster/coordinator.js';
import { idempotentId } from '../../../src/services/commands.js';
import { RegistryService, TokenHasher } from '../../../src/services/registry.js';
import { createRules, type Rules } from '../../../src/services/rules/index.js';
import { deleteStreams, NATS_URL } from '../../adapters/bus/nats-support.js';
import { createTestDatabase, type TestDatabase } from '../../adapters/store/postgres-support.js';
import { FakeAlarms, silent, TENANT } from './fixture.js';

const RUN = `rp${randomBytes(4).toString('hex')}`;
const P = 8;
const TTL = 1500;
const SCHEMA = 'cluster';
/** The cluster's credential key: every node hashes tokens alike. */
const tokens = new TokenHasher(randomBytes(32));

/** Rule commands written to the store under the id their idempotency key gives (as CommandService does). */
class StoreCommands implements CommandApi {
  duplicates = 0;
  constructor(private readonly store: PostgresStore) {}
  async send(input: SendCommand): Promise<Command> {
    const id = input.idempotencyKey !== undefined ? idempotentId(input.tenantId, input.idempotencyKey) : randomBytes(16).toString('hex');
    const command = { id, tenantId: input.tenantId, deviceId: input.deviceId, method: input.method, params: input.params ?? null, oneway: false, persistent: true, status: 'QUEUED' as const, retries: 0, maxRetries: 0, timeoutMs: 1000, createdAt: 0, updatedAt: 0, expiresAt: 0, version: 1 };
    try {
      await this.store.insertCommand(command);
    } catch (err) {
      if (!isPlatformError(err, 'CONFLICT')) throw err;
      this.duplicates++;
    }
    return command;
  }
}

interface Node {
  readonly id: string;
  readonly store: PostgresStore;
  readonly bus: NatsBus;
  readonly coordinator: PartitionCoordinator;
  readonly rules: Rules;
}

async function until(what: string, check: () => Promise<boolean> | boolean, limitMs = 60_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for: ${what}`);
    await sleep(50);
  }
}

describe('rule engine in a cluster: partition ownership, checkpoints, firing keys', () => {
  let db: TestDatabase;
  const nodes: Node[] = [];
  const alarms = new FakeAlarms();
  let admin: pg.Client;

  before(async () => {
    db = await createTestDatabase();
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
  });
  after(async () => {
    for (const n of nodes) {
      n.coordinator.halt();
      await n.rules.stop().catch(() => undefined);
      await n.bus.close().catch(() => undefined);
      await n.store.close();
    }
    await admin.end();
    await db.drop();
    await deleteStreams(RUN);
  });

  async function startNode(id: string): Promise<Node> {
    const store = await createPostgresStore({ url: db.url, poolSize: 4, statementTimeoutMs: 30_000, schema: SCHEMA });
    const bus = await NatsBus.connect({ url: NATS_URL, prefix: RUN, partitions: P, ackWaitMs: 3000 });
    const registry = new RegistryService({ store, clock: { now: () => Date.now() }, logger: silent, codecNames: ['json'], tokens });
    await registry.init();
    const coordinator = new PartitionCoordinator({ nodeId: id, group: 'rules', partitions: P, ttlMs: TTL, membership: store.cluster.membership, leases: store.cluster.leases, logger: silent });
    await coordinator.start();
    const rules = createRules({
      store,
      registry,
      bus,
      clock: { now: () => Date.now() },
      logger: silent,
      timers: false,
      stateFlushMs: 100,
      actionDeps: { alarms, commands: new StoreCommands(store) },
      cluster: { nodeId: id, group: 'rules', partitions: P, ownership: coordinator, checkpoints: store.cluster.checkpoints },
    });
    await rules.start();
    const node = { id, store, bus, coordinator, rules };
    nodes.push(node);
    return node;
  }

  const count = async (table: string): Promise<number> => Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.${table}`)).rows[0]?.n);

  it('one owner per partition; a node killed mid-stream is taken over; every edge fires exactly once', async () => {
    const a = await startNode('a'); // alone first: creates every partition's consumer before anything is published
    const registry = new RegistryService({ store: a.store, clock: { now: () => Date.now() }, logger: silent, codecNames: ['json'], tokens });
    await registry.init();
    const devices: { id: string; tenantId: string; name: string }[] = [];
    for (let i = 0; i < 12; i++) devices.push((await registry.createDevice({ tenantId: TENANT, name: `m${i}` })).device);
    await a.rules.service.create(TENANT, { name: 'hot', trigger: 'telemetry', condition: 't > 50', actions: [{ type: 'alarm', alarmType: 'Hot', severity: 'major' }, { type: 'command', method: 'cool' }] });
    const b = await startNode('b');
    const c = await startNode('c');
    // b and c load the rule at start
    for (const n of [b, c]) assert.equal(n.rules.engine.index.size, 1);
    await until('one owner per partition', async () => {
      const claims = [a, b, c].flatMap((n) => [...n.coordinator.owned()]);
      return claims.length === P && new Set(claims).size === P && [a, b, c].every((n) => [...n.coordinator.owned()].length > 0);
    });

    // 40 messages per device: t alternates 60 ×5, 20 ×5 → 4 raises and 4 clears per device
    const MESSAGES = 40;
    const t0 = Date.now();
    const publish = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) {
        for (const d of devices) {
          const value = i % 10 < 5 ? 60 : 20;
          await a.bus.publish('telemetry', subjectFor('telemetry', d.tenantId, d.id), { tenantId: d.tenantId, deviceId: d.id, points: [{ key: 't', ts: t0 + i, value }] });
        }
      }
    };
    await publish(0, 17);
    await until('c working', async () => (await count('rule_firings')) > 0);
    // c dies: no release, no final checkpoint; its engine keeps running unaware (a paused process), fenced once taken over
    c.coordinator.halt();
    await c.bus.close();
    await publish(17, MESSAGES);
    const expected = devices.length * (MESSAGES / 10) * 2;
    await until('every edge fired', async () => (await count('rule_firings')) >= expected, 90_000);
    await until('partitions taken over', async () => {
      const claims = [a, b].flatMap((n) => [...n.coordinator.owned()]);
      return claims.length === P && new Set(claims).size === P;
    });
    await until('all dispatched', async () => Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.rule_firings WHERE NOT dispatched`)).rows[0]?.n) === 0, 30_000);
    await Promise.all([a.rules.engine.idle(), b.rules.engine.idle()]);
    await sleep(TTL); // anything late would have shown up by now
    assert.equal(await count('rule_firings'), expected, 'each edge recorded once');
    const raises = alarms.log.filter((l) => l.startsWith('raise')).length;
    const clears = alarms.log.filter((l) => l.startsWith('clear')).length;
    assert.ok(raises >= expected / 2 && clears >= expected / 2, `raises ${raises}, clears ${clears}`);
    assert.equal(await count('commands'), expected / 2, 'one command per raise');
    for (const d of devices) {
      const log = alarms.log.filter((l) => l.endsWith(` ${d.id}`));
      // in edge order: never two raises without a clear between (an alarm is never raised twice)
      for (let i = 1; i < log.length; i++) assert.notEqual(log[i]?.split(' ')[0], log[i - 1]?.split(' ')[0], `${d.name}: ${log.join(', ')}`);
    }
  });
});
