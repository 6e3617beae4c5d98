/**
 * The Bus contract: one suite every Bus implementation must pass, unchanged (memory.test.ts,
 * nats.test.ts: no capability flags were needed). Each test gets a fresh bus from the factory,
 * which must make redelivery back-off short (a few ms) and report dead letters to
 * `onDeadLetter`. Run it from a *.test.ts file: `busContract('memory', factory)`. A consumer
 * "dies" by unsubscribing with a delivery unsettled.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Bus, BusEvents, DeadLetter } from '../../../src/ports.js';
import { BUS_SAMPLES } from '../../domain/bus-event-samples.js';

export type BusFactory = (hooks: { onDeadLetter(letter: DeadLetter): void }) => Bus | Promise<Bus>;

const T = 't1';
const telemetry = (deviceId: string, n: number): BusEvents['telemetry'] => ({ tenantId: T, deviceId, points: [{ key: 'n', ts: n, value: n }] });
const subject = (deviceId: string): string => `telemetry.${T}.${deviceId}`;

/** Waits until `check` holds (polling), failing after `ms`. */
export async function until(check: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A promise with its settle functions (a handler holding a delivery open). */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export function busContract(name: string, factory: BusFactory): void {
  describe(`Bus contract: ${name}`, () => {
    let bus: Bus;
    let dead: DeadLetter[];
    beforeEach(async () => {
      dead = [];
      bus = await factory({ onDeadLetter: (l) => void dead.push(l) });
    });
    afterEach(async () => {
      await bus.close();
    });

    describe('broadcast', () => {
      it('every matching subscription gets every message; exact, `*` and `>` follow NATS semantics', async () => {
        const seen: string[] = [];
        bus.subscribe('status', 'status.t.d1', (_m, s) => void seen.push(`exact ${s}`));
        bus.subscribe('status', 'status.*.d1', (_m, s) => void seen.push(`star ${s}`));
        bus.subscribe('status', 'status.>', (_m, s) => void seen.push(`tail ${s}`));
        bus.subscribe('status', 'status.>', (_m, s) => void seen.push(`tail2 ${s}`));
        await bus.publish('status', 'status.t.d1', { tenantId: 't', deviceId: 'd1', online: true });
        await bus.publish('status', 'status.t.d2', { tenantId: 't', deviceId: 'd2', online: false });
        await until(() => seen.length === 6, 3000, 'six deliveries');
        assert.deepEqual(seen.sort(), ['exact status.t.d1', 'star status.t.d1', 'tail status.t.d1', 'tail status.t.d2', 'tail2 status.t.d1', 'tail2 status.t.d2']);
      });

      it('publish returns a promise that resolves once the bus has the message', async () => {
        const got: number[] = [];
        bus.subscribe('telemetry', 'telemetry.>', (m) => void got.push(m.points[0]?.ts ?? -1));
        const p = bus.publish('telemetry', subject('d1'), telemetry('d1', 1));
        assert.ok(p instanceof Promise);
        assert.equal(await p, undefined);
        await until(() => got.length === 1);
      });

      it('a failing subscriber does not stop the others; unsubscribe stops delivery', async () => {
        let count = 0;
        bus.subscribe('status', 'status.>', () => {
          throw new Error('boom');
        }, { maxDeliveries: 1 });
        const off = bus.subscribe('status', 'status.t.d1', () => void count++);
        await bus.publish('status', 'status.t.d1', { tenantId: 't', deviceId: 'd1', online: true });
        await until(() => count === 1);
        off();
        await bus.publish('status', 'status.t.d1', { tenantId: 't', deviceId: 'd1', online: true });
        await sleep(20);
        assert.equal(count, 1);
      });

      it('a broadcast subscription handles its messages one at a time, in publish order (maxInFlight 1)', async () => {
        const log: string[] = [];
        bus.subscribe('telemetry', 'telemetry.>', async (m) => {
          log.push(`start ${m.deviceId}`);
          await sleep(m.deviceId === 'a' ? 15 : 1);
          log.push(`end ${m.deviceId}`);
        });
        for (const d of ['a', 'b', 'c']) await bus.publish('telemetry', subject(d), telemetry(d, 1));
        await until(() => log.length === 6);
        assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
      });

      it('every event round-trips unchanged (the schema every member has)', async () => {
        const got = new Map<string, unknown>();
        for (const event of Object.keys(BUS_SAMPLES) as (keyof BusEvents)[]) {
          bus.subscribe(event, `${event}.>`, (m) => void got.set(event, m));
        }
        for (const [event, message] of Object.entries(BUS_SAMPLES) as [keyof BusEvents, BusEvents[keyof BusEvents]][]) {
          await bus.publish(event, `${event}.${T}.d1`, structuredClone(message));
        }
        await until(() => got.size === Object.keys(BUS_SAMPLES).length);
        for (const [event, message] of Object.entries(BUS_SAMPLES)) assert.deepEqual(got.get(event), message, event);
      });
    });

    describe('work queue', () => {
      it('each message goes to exactly one member of a group; every group and broadcast subscriber gets it', async () => {
        const byMember = new Map<string, string[]>();
        const other: string[] = [];
        const broadcast: string[] = [];
        for (const m of ['m1', 'm2', 'm3']) {
          byMember.set(m, []);
          bus.subscribe('telemetry', 'telemetry.>', (msg) => void byMember.get(m)?.push(`${msg.deviceId}/${msg.points[0]?.ts}`), { group: 'rules' });
        }
        bus.subscribe('telemetry', 'telemetry.>', (msg) => void other.push(`${msg.deviceId}/${msg.points[0]?.ts}`), { group: 'archive' });
        bus.subscribe('telemetry', 'telemetry.>', (msg) => void broadcast.push(`${msg.deviceId}/${msg.points[0]?.ts}`));
        const sent: string[] = [];
        for (let n = 0; n < 60; n++) {
          const d = `d${n % 12}`;
          sent.push(`${d}/${n}`);
          await bus.publish('telemetry', subject(d), telemetry(d, n));
        }
        const all = (): string[] => [...byMember.values()].flat();
        await until(() => all().length >= 60 && other.length >= 60 && broadcast.length >= 60);
        await sleep(20);
        assert.deepEqual(all().sort(), [...sent].sort(), 'each message once in the group');
        assert.deepEqual([...other].sort(), [...sent].sort());
        assert.deepEqual([...broadcast].sort(), [...sent].sort());
        assert.ok([...byMember.values()].filter((l) => l.length > 0).length >= 2, 'the work is spread over members');
      });

      it("one device's messages are handled in order, one at a time, across members (partition by device)", async () => {
        const inFlight = new Set<string>();
        const order = new Map<string, number[]>();
        let overlap = false;
        const handler = async (msg: BusEvents['telemetry']): Promise<void> => {
          if (inFlight.has(msg.deviceId)) overlap = true;
          inFlight.add(msg.deviceId);
          await sleep((msg.points[0]?.ts ?? 0) % 3);
          order.set(msg.deviceId, [...(order.get(msg.deviceId) ?? []), msg.points[0]?.ts ?? -1]);
          inFlight.delete(msg.deviceId);
        };
        for (let m = 0; m < 3; m++) bus.subscribe('telemetry', 'telemetry.>', handler, { group: 'rules' });
        const expected = new Map<string, number[]>();
        for (let n = 0; n < 45; n++) {
          const d = `d${n % 5}`;
          expected.set(d, [...(expected.get(d) ?? []), n]);
          await bus.publish('telemetry', subject(d), telemetry(d, n));
        }
        await until(() => [...order.values()].flat().length === 45);
        assert.equal(overlap, false, 'two messages of one device were in flight at once');
        assert.deepEqual(new Map([...order].sort()), new Map([...expected].sort()));
      });

      it('an explicit partition key replaces the device token', async () => {
        const log: number[] = [];
        let running = 0;
        let maxRunning = 0;
        const handler = async (msg: BusEvents['telemetry']): Promise<void> => {
          maxRunning = Math.max(maxRunning, ++running);
          await sleep(1);
          log.push(msg.points[0]?.ts ?? -1);
          running--;
        };
        for (let m = 0; m < 2; m++) bus.subscribe('telemetry', 'telemetry.>', handler, { group: 'ordered', partition: () => 'one' });
        for (let n = 0; n < 10; n++) await bus.publish('telemetry', subject(`d${n}`), telemetry(`d${n}`, n));
        await until(() => log.length === 10);
        assert.deepEqual(log, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert.equal(maxRunning, 1);
      });

      it('a rejected delivery is redelivered (attempt 2) before the next message of its partition', async () => {
        const log: string[] = [];
        bus.subscribe('telemetry', 'telemetry.>', async (msg, _s, delivery) => {
          const n = msg.points[0]?.ts;
          log.push(`${n}#${delivery.attempt}`);
          if (n === 1 && delivery.attempt === 1) throw new Error('transient');
        }, { group: 'rules' });
        for (let n = 1; n <= 3; n++) await bus.publish('telemetry', subject('d1'), telemetry('d1', n));
        await until(() => log.length === 4);
        assert.deepEqual(log, ['1#1', '1#2', '2#1', '3#1']);
      });

      it('a synchronous throw is a rejection too', async () => {
        const attempts: number[] = [];
        bus.subscribe('telemetry', 'telemetry.>', (_m, _s, d) => {
          attempts.push(d.attempt);
          if (d.attempt < 3) throw new Error('not yet');
        }, { group: 'rules' });
        await bus.publish('telemetry', subject('d1'), telemetry('d1', 1));
        await until(() => attempts.length === 3);
        assert.deepEqual(attempts, [1, 2, 3]);
      });

      it('a consumer that dies while handling: its message is redelivered to another member', async () => {
        const held = deferred();
        const got: { member: string; ts: number; attempt: number }[] = [];
        const offA = bus.subscribe('telemetry', 'telemetry.>', (msg, _s, d) => {
          got.push({ member: 'A', ts: msg.points[0]?.ts ?? -1, attempt: d.attempt });
          return held.promise; // never settles before A dies
        }, { group: 'rules' });
        await bus.publish('telemetry', subject('d1'), telemetry('d1', 1));
        await until(() => got.length === 1, 3000, 'A to take the message');
        // B joins; the message is A's while A lives
        bus.subscribe('telemetry', 'telemetry.>', (msg, _s, d) => void got.push({ member: 'B', ts: msg.points[0]?.ts ?? -1, attempt: d.attempt }), { group: 'rules' });
        await bus.publish('telemetry', subject('d1'), telemetry('d1', 2));
        await sleep(20);
        assert.deepEqual(got, [{ member: 'A', ts: 1, attempt: 1 }], 'd1/2 waits behind d1/1 in its partition');
        offA(); // A dies mid-handling
        await until(() => got.length === 3, 3000, 'redelivery to B');
        assert.deepEqual(got.slice(1), [{ member: 'B', ts: 1, attempt: 2 }, { member: 'B', ts: 2, attempt: 1 }]);
        held.resolve(); // a late settlement of the dead consumer changes nothing
        await sleep(20);
        assert.equal(got.length, 3);
        assert.equal(dead.length, 0);
      });

      it('a group left without members keeps its messages for the next member', async () => {
        const off = bus.subscribe('telemetry', 'telemetry.>', () => undefined, { group: 'rules' });
        off();
        await bus.publish('telemetry', subject('d1'), telemetry('d1', 7));
        const got: number[] = [];
        bus.subscribe('telemetry', 'telemetry.>', (m) => void got.push(m.points[0]?.ts ?? -1), { group: 'rules' });
        await until(() => got.length === 1);
        assert.deepEqual(got, [7]);
      });

      it('after maxDeliveries the message is dead-lettered and its partition goes on', async () => {
        const calls: string[] = [];
        bus.subscribe('telemetry', 'telemetry.>', async (msg, _s, d) => {
          calls.push(`${msg.points[0]?.ts}#${d.attempt}`);
          if (msg.points[0]?.ts === 1) throw new Error('poison');
        }, { group: 'rules', maxDeliveries: 3 });
        await bus.publish('telemetry', subject('d1'), telemetry('d1', 1));
        await bus.publish('telemetry', subject('d1'), telemetry('d1', 2));
        await until(() => calls.length === 4 && dead.length === 1);
        assert.deepEqual(calls, ['1#1', '1#2', '1#3', '2#1']);
        const letter = dead[0] as DeadLetter;
        assert.equal(letter.event, 'telemetry');
        assert.equal(letter.subject, subject('d1'));
        assert.equal(letter.group, 'rules');
        assert.equal(letter.attempts, 3);
        assert.match(String((letter.error as Error).message), /poison/);
        assert.deepEqual(letter.message, telemetry('d1', 1));
      });

      it('maxInFlight bounds what one member handles at once', async () => {
        let running = 0;
        let maxRunning = 0;
        let done = 0;
        bus.subscribe('telemetry', 'telemetry.>', async () => {
          maxRunning = Math.max(maxRunning, ++running);
          await sleep(2);
          running--;
          done++;
        }, { group: 'rules', maxInFlight: 2 });
        for (let n = 0; n < 8; n++) await bus.publish('telemetry', subject(`d${n}`), telemetry(`d${n}`, n));
        await until(() => done === 8);
        assert.equal(maxRunning, 2);
      });

      it('members of one group must consume the same subjects', () => {
        bus.subscribe('telemetry', 'telemetry.>', () => undefined, { group: 'g' });
        assert.throws(() => bus.subscribe('telemetry', 'telemetry.t1.*', () => undefined, { group: 'g' }));
      });
    });
  });
}
