/**
 * The edge's own stores: alarms (one open per device and type, repeats, pending until the
 * platform acknowledged the version sent, kept across a reopen) and the children's cached shared
 * attributes (updates, deletes, a complete answer replacing the set, kept across a reopen).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EdgeAlarmStore } from '../../src/edge/alarms/alarm-store.js';
import { AttributeCache } from '../../src/edge/attributes/attribute-cache.js';
import { tempDir } from '../support/platform.js';

test('edge alarms: one open per (device, type), repeats, clear, pending until acknowledged, kept on disk', () => {
  const file = join(tempDir(), 'edge-alarms.db');
  let store = new EdgeAlarmStore(file);
  let changes = 0;
  store.onChange(() => changes++);
  const a = store.raise('plc-1', 'Hot', 'minor', { t: 81 }, 1000);
  const b = store.raise('plc-1', 'Hot', 'major', { t: 90 }, 2000);
  assert.equal(b.id, a.id);
  assert.deepEqual([b.count, b.severity, b.raisedAt, b.details], [2, 'major', 1000, { t: 90 }]);
  assert.notEqual(store.raise('plc-2', 'Hot', 'minor', {}, 1500).id, a.id);
  assert.deepEqual(store.pending(10).map((x) => [x.device, x.version, x.synced]), [['plc-1', 2, 0], ['plc-2', 1, 0]]);
  store.markSynced(a.id, 2);
  const cleared = store.clear('plc-1', 'Hot', 3000);
  assert.deepEqual([cleared?.clearedAt, cleared?.version, cleared?.synced], [3000, 3, 2], 'the clear is pending again');
  assert.equal(store.clear('plc-1', 'Hot', 4000), undefined, 'nothing open to clear');
  assert.equal(store.clear('plc-2', 'Hot', 500)?.clearedAt, 1500, 'a clear never precedes its raise');
  assert.equal(changes, 5);
  store.close();
  store = new EdgeAlarmStore(file);
  assert.deepEqual(store.stats(), { open: 0, pending: 2 });
  const again = store.raise('plc-1', 'Hot', 'minor', {}, 5000);
  assert.notEqual(again.id, a.id, 'after a clear, a new alarm');
  store.close();
});

test('cached shared attributes: updates, deletes and complete answers report what changed; kept on disk', () => {
  const file = join(tempDir(), 'edge-attributes.db');
  let cache = new AttributeCache(file);
  assert.deepEqual(cache.apply('plc-1', { maxTemp: 50, mode: 'auto' }, false, []), { maxTemp: 50, mode: 'auto' });
  assert.deepEqual(cache.apply('plc-1', { maxTemp: 50 }, false, []), {}, 'an unchanged value is no change');
  assert.deepEqual(cache.apply('plc-1', {}, false, ['mode', 'never-set']), { mode: null });
  cache.apply('plc-1', { mode: 'manual' }, false, []);
  // The answer at connect is the whole set: what it lacks was deleted while the edge was away.
  assert.deepEqual(cache.apply('plc-1', { maxTemp: 55 }, true, []), { maxTemp: 55, mode: null });
  cache.close();
  cache = new AttributeCache(file);
  assert.equal(cache.get('plc-1', 'maxTemp'), 55);
  assert.equal(cache.get('plc-1', 'mode'), undefined);
  assert.equal(cache.get('plc-2', 'maxTemp'), undefined);
  cache.close();
});
