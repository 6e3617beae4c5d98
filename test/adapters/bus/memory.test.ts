import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../../src/adapters/bus/memory/index.js';

const status = (deviceId: string) => ({ tenantId: 't', deviceId, online: true });

test('exact, single-token and tail wildcards follow NATS semantics', () => {
  const bus = new MemoryBus();
  const seen: string[] = [];
  bus.subscribe('status', 'status.t.d1', (_m, s) => seen.push(`exact ${s}`));
  bus.subscribe('status', 'status.*.d1', (_m, s) => seen.push(`star ${s}`));
  bus.subscribe('status', 'status.>', (_m, s) => seen.push(`tail ${s}`));
  bus.publish('status', 'status.t.d1', status('d1'));
  bus.publish('status', 'status.t.d2', status('d2'));
  assert.deepEqual(seen, ['exact status.t.d1', 'star status.t.d1', 'tail status.t.d1', 'tail status.t.d2']);
});

test('a throwing handler does not stop the others; unsubscribe stops delivery', () => {
  const bus = new MemoryBus();
  let count = 0;
  bus.subscribe('status', 'status.>', () => {
    throw new Error('boom');
  });
  const off = bus.subscribe('status', 'status.t.d1', () => count++);
  bus.publish('status', 'status.t.d1', status('d1'));
  off();
  bus.publish('status', 'status.t.d1', status('d1'));
  assert.equal(count, 1);
});

test('wildcards match token by token at the edges: empty tokens, short and long subjects', () => {
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
    bus.subscribe('status', pattern, () => (hit = true));
    bus.publish('status', subject, status('d'));
    assert.equal(hit, expected, `${pattern} vs ${subject}`);
  }
});
