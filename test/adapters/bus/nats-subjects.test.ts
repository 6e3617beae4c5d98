import { test } from 'node:test';
import assert from 'node:assert/strict';
import { busSubject, consumerName, partitionOf, streamName, wireFilter, wireSubject } from '../../../src/adapters/bus/nats/subjects.js';
import { deviceToken, hashKey } from '../../../src/adapters/bus/partition.js';
import { BusSchemaError } from '../../../src/domain/bus-events.js';

test('a bus subject goes on the wire as <prefix>.<event>.<partition>.<rest>, the partition from the device token (as the memory bus hashes it)', () => {
  const p = hashKey('dev-1') % 64;
  assert.equal(partitionOf('telemetry.t1.dev-1', 64), p);
  assert.equal(partitionOf('status.t2.dev-1', 64), p, 'the same device, the same partition, whatever the event or tenant');
  assert.equal(deviceToken('telemetry.t1.dev-1.extra'), 'dev-1');
  assert.equal(wireSubject('c', 'telemetry', 'telemetry.t1.dev-1', 64), `c.telemetry.${p}.t1.dev-1`);
  assert.equal(busSubject(`c.telemetry.${p}.t1.dev-1`), 'telemetry.t1.dev-1');
  assert.equal(wireSubject('c', 'ruleError', 'ruleError.t1.-', 1), 'c.ruleError.0.t1.-');
  assert.equal(streamName('c', 'telemetry'), 'c_telemetry');
  assert.equal(consumerName('rules-telemetry', 3), 'rules-telemetry_p3');
  assert.equal(consumerName('g', 'all'), 'g_all');
});

test('subjects a NATS server would refuse (or that belong to another event) are refused before sending', () => {
  for (const bad of ['status.t1.d1', 'telemetry', 'telemetry.', 'telemetry.t1..d1', 'telemetry.t1.*', 'telemetry.t1.>', 'telemetry.t 1.d1']) {
    assert.throws(() => wireSubject('c', 'telemetry', bad, 8), BusSchemaError, bad);
  }
});

test('patterns map token for token; the first token is the event or a wildcard standing for it', () => {
  assert.equal(wireFilter('c', 'telemetry', 'telemetry.>', 3), 'c.telemetry.3.>');
  assert.equal(wireFilter('c', 'telemetry', 'telemetry.t1.*', '*'), 'c.telemetry.*.t1.*');
  assert.equal(wireFilter('c', 'telemetry', '*.t1.d1', '*'), 'c.telemetry.*.t1.d1');
  assert.equal(wireFilter('c', 'telemetry', '>', 0), 'c.telemetry.0.>');
  assert.throws(() => wireFilter('c', 'telemetry', 'status.>', '*'), /does not consume telemetry/);
  assert.throws(() => wireFilter('c', 'telemetry', 'telemetry', '*'), /matches no subject/);
  assert.throws(() => wireFilter('c', 'telemetry', 'telemetry..x', '*'), /invalid token/);
});
