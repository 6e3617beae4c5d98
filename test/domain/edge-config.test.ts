/** The push history's pure parts: sections after a push, numbering, bounded history, defensive parse. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendEdgePush, EDGE_PUSH_HISTORY_LIMIT, parseEdgePushHistory, sectionsAfter } from '../../src/domain/edge-config.js';

test('sectionsAfter: an array replaces, null clears (the file applies again), undefined keeps', () => {
  const before = { edgeConnectors: [1], edgeRules: [2] };
  assert.deepEqual(sectionsAfter(before, { rules: [3] }), { edgeConnectors: [1], edgeRules: [3] });
  assert.deepEqual(sectionsAfter(before, { connectors: null }), { edgeRules: [2] });
  assert.deepEqual(sectionsAfter({}, { connectors: [4], rules: null }), { edgeConnectors: [4] });
});

test('appendEdgePush numbers one above the newest and keeps the last 20', () => {
  let history = parseEdgePushHistory(undefined);
  for (let i = 0; i < EDGE_PUSH_HISTORY_LIMIT + 5; i++) history = appendEdgePush(history, { digest: `d${i}`, at: i, actor: 'u', state: {} }).history;
  assert.equal(history.length, EDGE_PUSH_HISTORY_LIMIT);
  assert.equal(history[0]?.version, 6);
  assert.equal(history.at(-1)?.version, EDGE_PUSH_HISTORY_LIMIT + 5);
  const { record } = appendEdgePush(history, { digest: 'x', at: 1, actor: 'u', rollbackOf: 7, state: { edgeRules: [] } });
  assert.deepEqual(record, { version: EDGE_PUSH_HISTORY_LIMIT + 6, digest: 'x', at: 1, actor: 'u', rollbackOf: 7, state: { edgeRules: [] } });
});

test('parseEdgePushHistory skips entries of another shape instead of trusting them', () => {
  const parsed = parseEdgePushHistory([
    { version: 1, digest: 'a', at: 1, actor: 'u', state: { edgeRules: [1], other: 2 } },
    { version: '2', digest: 'b', at: 2, actor: 'u', state: {} },
    null,
    'x',
    { version: 3, digest: 'c', at: 3, actor: 'u' },
  ]);
  assert.deepEqual(parsed, [{ version: 1, digest: 'a', at: 1, actor: 'u', state: { edgeRules: [1] } }]);
  assert.deepEqual(parseEdgePushHistory({ not: 'an array' }), []);
});
