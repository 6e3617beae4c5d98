/**
 * Two NATS buses as two nodes in one work-queue group (the machine's nats-server), plus a third
 * node in a child process that is SIGKILLed holding a delivery. Also: what a serializing bus
 * refuses and how it survives a message that does not fit its schema.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import { NatsBus } from '../../../src/adapters/bus/nats/index.js';
import { BusSchemaError } from '../../../src/domain/bus-events.js';
import { isPlatformError } from '../../../src/domain/errors.js';
import type { BusEvents, DeadLetter } from '../../../src/ports.js';
import { until } from './contract.js';
import { deleteStreams, NATS_URL } from './nats-support.js';

const RUN = `cn${randomBytes(4).toString('hex')}`;
let n = 0;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const telemetry = (deviceId: string, ts: number): BusEvents['telemetry'] => ({ tenantId: 't1', deviceId, points: [{ key: 'n', ts, value: ts }] });
const subject = (deviceId: string): string => `telemetry.t1.${deviceId}`;

after(async () => {
  await deleteStreams(RUN);
});

describe('NATS bus: two nodes in one work-queue group', () => {
  it('each message is handled once, by either node, each device in publish order one at a time', async () => {
    const prefix = `${RUN}_${n++}`;
    const nodes = [await NatsBus.connect({ url: NATS_URL, prefix, partitions: 8 }), await NatsBus.connect({ url: NATS_URL, prefix, partitions: 8 })];
    try {
      const handled: { node: number; device: string; ts: number }[] = [];
      const busy = new Set<string>();
      let overlap = 0;
      nodes.forEach((bus, node) =>
        bus.subscribe('telemetry', 'telemetry.>', async (m) => {
          if (busy.has(m.deviceId)) overlap++;
          busy.add(m.deviceId);
          await sleep(Math.random() * 2);
          handled.push({ node, device: m.deviceId, ts: m.points[0]?.ts ?? -1 });
          busy.delete(m.deviceId);
        }, { group: 'rules' }),
      );
      const total = 400;
      const publishes: Promise<void>[] = [];
      for (let i = 0; i < total; i++) {
        const d = `d${i % 20}`;
        // both nodes publish, so the stream interleaves them; per device one publisher keeps order
        publishes.push((nodes[i % 20 < 10 ? 0 : 1] as NatsBus).publish('telemetry', subject(d), telemetry(d, i)));
      }
      await Promise.all(publishes);
      await until(() => handled.length >= total, 20_000, `${total} handled`);
      await sleep(100);
      assert.equal(handled.length, total, 'no message handled twice');
      assert.deepEqual(new Set(handled.map((h) => h.ts)).size, total);
      assert.equal(overlap, 0, 'two messages of one device in flight at once');
      for (let d = 0; d < 20; d++) {
        const order = handled.filter((h) => h.device === `d${d}`).map((h) => h.ts);
        assert.deepEqual(order, [...order].sort((a, b) => a - b), `d${d} in publish order`);
      }
      const perNode = [0, 1].map((node) => handled.filter((h) => h.node === node).length);
      assert.ok(perNode.every((c) => c > 0), `both nodes took work: ${perNode.join('/')}`);
    } finally {
      await Promise.all(nodes.map((b) => b.close()));
    }
  });

  it('a node closed while handling: its message goes to the other node at once (nak), then the rest of that device in order', async () => {
    const prefix = `${RUN}_${n++}`;
    const a = await NatsBus.connect({ url: NATS_URL, prefix, partitions: 4, ackWaitMs: 30_000 });
    const b = await NatsBus.connect({ url: NATS_URL, prefix, partitions: 4, ackWaitMs: 30_000 });
    try {
      const got: string[] = [];
      a.subscribe('telemetry', 'telemetry.>', (m, _s, d) => {
        got.push(`A ${m.points[0]?.ts}#${d.attempt}`);
        return new Promise<void>(() => undefined); // never settles: A dies with it
      }, { group: 'rules' });
      await a.publish('telemetry', subject('d1'), telemetry('d1', 1));
      await until(() => got.length === 1, 5000, 'A to take d1/1');
      b.subscribe('telemetry', 'telemetry.>', (m, _s, d) => void got.push(`B ${m.points[0]?.ts}#${d.attempt}`), { group: 'rules' });
      await b.publish('telemetry', subject('d1'), telemetry('d1', 2));
      await sleep(200);
      assert.deepEqual(got, ['A 1#1'], 'd1/2 waits behind d1/1');
      const t0 = Date.now();
      await a.close();
      await until(() => got.length === 3, 5000, 'redelivery to B');
      assert.deepEqual(got, ['A 1#1', 'B 1#2', 'B 2#1']);
      assert.ok(Date.now() - t0 < 5000, 'well before ack_wait (30 s)');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a node SIGKILLed while handling: after ack_wait its message is redelivered to the survivor', async () => {
    const prefix = `${RUN}_${n++}`;
    const b = await NatsBus.connect({ url: NATS_URL, prefix, partitions: 4, ackWaitMs: 1500 });
    const member = fileURLToPath(new URL('./nats-member.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', member, NATS_URL, prefix], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await until(() => out.includes('ready'), 20_000, 'the child node to join');
      const got: string[] = [];
      // B joins only after the child took the message, so the child is the one holding it
      await b.publish('telemetry', subject('d7'), telemetry('d7', 1));
      await until(() => out.includes('took 1#1'), 5000, 'the child to take d7/1');
      b.subscribe('telemetry', 'telemetry.>', (m, _s, d) => void got.push(`${m.points[0]?.ts}#${d.attempt}`), { group: 'rules' });
      await b.publish('telemetry', subject('d7'), telemetry('d7', 2));
      child.kill('SIGKILL');
      const t0 = Date.now();
      await until(() => got.length === 2, 10_000, 'redelivery after ack_wait');
      assert.deepEqual(got, ['1#2', '2#1'], 'redelivered (attempt 2) before the next of its device');
      assert.ok(Date.now() - t0 >= 500, 'not before the ack wait ran out');
    } finally {
      child.kill('SIGKILL');
      await b.close();
    }
  });
  it('a node SIGKILLed on the last allowed delivery: the survivor reports the dead letter (MAX_DELIVERIES advisory) and the device goes on', async () => {
    const prefix = `${RUN}_${n++}`;
    const dead: DeadLetter[] = [];
    const b = await NatsBus.connect({ url: NATS_URL, prefix, partitions: 4, ackWaitMs: 1500, onDeadLetter: (l) => void dead.push(l) });
    const member = fileURLToPath(new URL('./nats-member.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', member, NATS_URL, prefix, '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await until(() => out.includes('ready'), 20_000, 'the child node to join');
      await b.publish('telemetry', subject('d9'), telemetry('d9', 1));
      await until(() => out.includes('took 1#1'), 5000, 'the child to take d9/1');
      const got: number[] = [];
      b.subscribe('telemetry', 'telemetry.>', (m) => void got.push(m.points[0]?.ts ?? -1), { group: 'rules', maxDeliveries: 1 });
      await b.publish('telemetry', subject('d9'), telemetry('d9', 2));
      child.kill('SIGKILL');
      await until(() => dead.length === 1 && got.length === 1, 10_000, 'the dead letter and the next message');
      assert.deepEqual(got, [2]);
      const letter = dead[0] as DeadLetter;
      assert.equal(letter.group, 'rules');
      assert.equal(letter.subject, subject('d9'));
      assert.deepEqual(letter.message, telemetry('d9', 1));
      assert.match(String((letter.error as Error).message), /ack_wait/);
    } finally {
      child.kill('SIGKILL');
      await b.close();
    }
  });
});

describe('NATS bus: long handlers', () => {
  it('a handler running longer than ack_wait reports progress and is not redelivered meanwhile', async () => {
    const prefix = `${RUN}_${n++}`;
    const a = await NatsBus.connect({ url: NATS_URL, prefix, partitions: 2, ackWaitMs: 1500 });
    const b = await NatsBus.connect({ url: NATS_URL, prefix, partitions: 2, ackWaitMs: 1500 });
    try {
      const calls: string[] = [];
      const slow = (node: string) => async (_m: BusEvents['telemetry'], _s: string, d: { attempt: number }): Promise<void> => {
        calls.push(`${node}#${d.attempt}`);
        await sleep(4000);
      };
      a.subscribe('telemetry', 'telemetry.>', slow('A'), { group: 'rules' });
      b.subscribe('telemetry', 'telemetry.>', slow('B'), { group: 'rules' });
      await a.publish('telemetry', subject('d1'), telemetry('d1', 1));
      await sleep(4600);
      assert.equal(calls.length, 1, `one delivery in 4.6 s with ack_wait 1.5 s: ${calls.join(', ')}`);
      assert.match(calls[0] ?? '', /#1$/);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('NATS bus: broadcast', () => {
  it('a broadcast subscriber on another node gets every message in publish order, across fetch batches (256)', async () => {
    const prefix = `${RUN}_${n++}`;
    const a = await NatsBus.connect({ url: NATS_URL, prefix, partitions: 8 });
    const b = await NatsBus.connect({ url: NATS_URL, prefix, partitions: 8 });
    try {
      const got: number[] = [];
      b.subscribe('telemetry', 'telemetry.>', (m) => void got.push(m.points[0]?.ts ?? -1));
      await b.publish('telemetry', subject('warmup'), telemetry('warmup', -1)); // b's subscription is set up
      for (let i = 0; i < 600; i++) await a.publish('telemetry', subject(`d${i % 7}`), telemetry(`d${i % 7}`, i));
      await until(() => got.length === 601, 10_000, '601 messages');
      assert.deepEqual(got, [-1, ...Array.from({ length: 600 }, (_, i) => i)]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('NATS bus: schema at the boundary', () => {
  it('refuses to publish a message that does not fit its schema, or a subject that is not <event>.…', async () => {
    const bus = await NatsBus.connect({ url: NATS_URL, prefix: `${RUN}_${n++}`, partitions: 2 });
    try {
      await assert.rejects(bus.publish('telemetry', subject('d1'), { tenantId: 't1', deviceId: 'd1', points: [{ key: 'k', ts: Number.NaN, value: 1 }] }), BusSchemaError);
      await assert.rejects(bus.publish('telemetry', 'status.t1.d1', telemetry('d1', 1)), BusSchemaError);
      await assert.rejects(bus.publish('telemetry', 'telemetry.t1..d1', telemetry('d1', 1)), BusSchemaError);
      await assert.rejects(bus.publish('telemetry', 'telemetry.t1.*', telemetry('d1', 1)), BusSchemaError);
      assert.throws(() => bus.subscribe('telemetry', 'status.>', () => undefined), /does not consume telemetry/);
    } finally {
      await bus.close();
    }
  });

  it('a message on the wire that does not fit is dead-lettered (logged), never handed over, and the partition goes on', async () => {
    const prefix = `${RUN}_${n++}`;
    const dead: DeadLetter[] = [];
    const logged: unknown[] = [];
    const logger = { error: (o: unknown) => void logged.push(o), warn: () => undefined, info: () => undefined, debug: () => undefined, child: () => logger } as never;
    const bus = await NatsBus.connect({ url: NATS_URL, prefix, partitions: 1, onDeadLetter: (l) => void dead.push(l) }, logger);
    const raw = await connect({ servers: NATS_URL });
    try {
      const group: number[] = [];
      const broadcast: number[] = [];
      bus.subscribe('telemetry', 'telemetry.>', (m) => void group.push(m.points[0]?.ts ?? -1), { group: 'rules' });
      bus.subscribe('telemetry', 'telemetry.>', (m) => void broadcast.push(m.points[0]?.ts ?? -1));
      await bus.publish('telemetry', subject('d1'), telemetry('d1', 1)); // also waits for the subscriptions
      const js = raw.jetstream();
      await js.publish(`${prefix}.telemetry.0.t1.d1`, 'not json');
      await js.publish(`${prefix}.telemetry.0.t1.d1`, JSON.stringify({ e: 'telemetry', v: 99, d: telemetry('d1', 2) }));
      await js.publish(`${prefix}.telemetry.0.t1.d1`, JSON.stringify({ e: 'telemetry', v: 1, d: { tenantId: 't1', deviceId: 'd1', points: 'no' } }));
      await bus.publish('telemetry', subject('d1'), telemetry('d1', 3));
      await until(() => group.length === 2 && broadcast.length === 2 && dead.length === 6, 5000, 'the good ones handled, the bad ones dead-lettered');
      assert.deepEqual(group, [1, 3]);
      assert.deepEqual(broadcast, [1, 3]);
      assert.equal(dead.filter((l) => l.group === 'rules').length, 3);
      assert.ok(dead.every((l) => l.subject === subject('d1') && l.event === 'telemetry'));
      assert.equal(logged.length, 6, 'each dead letter logged');
    } finally {
      await raw.close();
      await bus.close();
    }
  });
});

describe('NATS bus: streams', () => {
  it('a stream deleted under a running bus is created again by the next publish after one refused', async () => {
    const prefix = `${RUN}_${n++}`;
    const bus = await NatsBus.connect({ url: NATS_URL, prefix, partitions: 2, requestTimeoutMs: 1000 });
    try {
      await bus.publish('status', 'status.t1.d1', { tenantId: 't1', deviceId: 'd1', online: true });
      await deleteStreams(prefix);
      await assert.rejects(bus.publish('status', 'status.t1.d1', { tenantId: 't1', deviceId: 'd1', online: false }), (err) => isPlatformError(err, 'UNAVAILABLE'));
      await bus.publish('status', 'status.t1.d1', { tenantId: 't1', deviceId: 'd1', online: true });
      assert.deepEqual(await deleteStreams(prefix), [`${prefix}_status`]);
    } finally {
      await bus.close();
    }
  });
});
