import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../../src/adapters/bus/memory/index.js';
import type { BusEvents } from '../../../src/ports.js';
import { busContract } from './contract.js';

busContract('memory', ({ onDeadLetter }) => new MemoryBus(undefined, { redeliveryDelayMs: () => 1, onDeadLetter }));

const status = (deviceId: string) => ({ tenantId: 't', deviceId, online: true });

describe('MemoryBus', () => {
  it('wildcards match token by token at the edges: empty tokens, short and long subjects', () => {
    const cases: [pattern: string, subject: string, expected: boolean][] = [
      ['status.>', 'status', false],
      ['status.>', 'status.', true],
      ['status.>', 'status.t', true],
      ['status.*', 'status.t.d', false],
      ['status.*.*', 'status.t.d', true],
      ['status.*.d1', 'status.t.d10', false],
      ['status.*.d10', 'status.t.d1', false],
      ['status.*', 'status..', false],
      ['*', 'status', true],
      ['>', 'status.t', true],
      ['statu.>', 'status.t', false],
    ];
    for (const [pattern, subject, expected] of cases) {
      const bus = new MemoryBus();
      let hit = false;
      bus.subscribe('status', pattern, () => void (hit = true));
      void bus.publish('status', subject, status('d'));
      assert.equal(hit, expected, `${pattern} vs ${subject}`);
    }
  });

  it('a removed group queues nothing more: a member joining later under its name sees only what follows', async () => {
    const bus = new MemoryBus();
    const unsubscribe = bus.subscribe('status', 'status.>', () => undefined, { group: 'gone' });
    unsubscribe();
    void bus.publish('status', 'status.t.d1', status('d1')); // a memberless group keeps this
    await bus.removeGroup('gone');
    void bus.publish('status', 'status.t.d2', status('d2')); // nobody keeps this
    const seen: string[] = [];
    bus.subscribe('status', 'status.>', (m) => void seen.push(m.deviceId), { group: 'gone' });
    void bus.publish('status', 'status.t.d3', status('d3'));
    await bus.idle();
    assert.deepEqual(seen, ['d3']);
  });

  it('delivers synchronously inside publish when the partition is idle (the hot path)', () => {
    const bus = new MemoryBus();
    const seen: string[] = [];
    bus.subscribe('status', 'status.>', (m) => void seen.push(m.deviceId));
    bus.subscribe('status', 'status.>', (m) => void seen.push(`g:${m.deviceId}`), { group: 'g' });
    void bus.publish('status', 'status.t.d1', status('d1'));
    assert.deepEqual(seen, ['d1', 'g:d1']);
  });

  it('no subscriber can change what the publisher or another subscriber sees (telemetry copied, other events frozen)', () => {
    const bus = new MemoryBus();
    const message: BusEvents['telemetry'] = { tenantId: 't', deviceId: 'd', points: [{ key: 'doc', ts: 1, value: { nested: [1, 2] } }] };
    bus.subscribe('telemetry', 'telemetry.>', (m) => {
      (m.points[0]?.value as { nested: number[] }).nested.push(3);
      (m as { deviceId: string }).deviceId = 'other';
      (m.points as unknown[]).length = 0;
    });
    let seen: BusEvents['telemetry'] | undefined;
    bus.subscribe('telemetry', 'telemetry.>', (m) => void (seen = m), { group: 'g' });
    void bus.publish('telemetry', 'telemetry.t.d', message);
    const original = { tenantId: 't', deviceId: 'd', points: [{ key: 'doc', ts: 1, value: { nested: [1, 2] } }] };
    assert.deepEqual(seen, original);
    assert.deepEqual(message, original);

    const errors: unknown[] = [];
    const status = { tenantId: 't', deviceId: 'd', online: true };
    bus.subscribe('status', 'status.>', (m) => {
      try {
        (m as { online: boolean }).online = false;
      } catch (err) {
        errors.push(err);
      }
    });
    void bus.publish('status', 'status.t.d', status);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof TypeError);
    assert.equal(status.online, true);
  });

  it('a handler that publishes to its own partition re-entrantly is not called again before it returns', () => {
    const bus = new MemoryBus();
    const log: string[] = [];
    bus.subscribe('status', 'status.>', (m) => {
      log.push(`start ${String(m.online)}`);
      if (m.online) void bus.publish('status', 'status.t.d1', { ...status('d1'), online: false });
      log.push(`end ${String(m.online)}`);
    }, { group: 'g' });
    void bus.publish('status', 'status.t.d1', status('d1'));
    assert.deepEqual(log, ['start true', 'end true', 'start false', 'end false']);
  });

  it('over maxQueued a message is dead-lettered instead of queued; after close publishes are dropped', async () => {
    const dead: unknown[] = [];
    const bus = new MemoryBus(undefined, { maxQueued: 2, onDeadLetter: (l) => void dead.push(l.message) });
    const off = bus.subscribe('status', 'status.>', () => undefined, { group: 'g' });
    off(); // nobody takes them: they queue
    for (const d of ['a', 'b', 'c']) await bus.publish('status', `status.t.${d}`, status(d));
    assert.deepEqual(dead, [status('c')]);
    await bus.close();
    await bus.publish('status', 'status.t.x', status('x')); // resolves, delivers nothing
  });

  it('idle() waits for queued, in-flight and redelivered messages', async () => {
    const bus = new MemoryBus(undefined, { redeliveryDelayMs: () => 5 });
    let done = 0;
    bus.subscribe('status', 'status.>', async (_m, _s, d) => {
      await new Promise((r) => setTimeout(r, 2));
      if (d.attempt === 1) throw new Error('again');
      done++;
    }, { group: 'g' });
    for (const d of ['a', 'a', 'b']) void bus.publish('status', `status.t.${d}`, status(d));
    await bus.idle();
    assert.equal(done, 3);
  });
});
