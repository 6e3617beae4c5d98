/** One well-formed message of every bus event, optional fields present (schema and contract tests). */
import type { BusEvents } from '../../src/ports.js';

const alarm = { id: 'a1', tenantId: 't1', deviceId: 'd1', type: 'LowBattery', severity: 'warning', status: 'active', count: 2, details: { level: 5 }, createdAt: 1, updatedAt: 2, acknowledgedAt: 3, version: 2 } as const;
const command = { id: 'c1', tenantId: 't1', deviceId: 'd1', method: 'reboot', params: { delay: 1 }, oneway: false, persistent: true, status: 'SUCCESSFUL', response: { ok: true }, retries: 1, createdAt: 1, updatedAt: 2, expiresAt: 3 } as const;

export const BUS_SAMPLES: { readonly [E in keyof BusEvents]: BusEvents[E] } = {
  telemetry: { tenantId: 't1', deviceId: 'd1', points: [{ key: 'temperature', ts: 1_700_000_000_000, value: 21.5 }, { key: 'doc', ts: 1_700_000_000_000, value: { a: [1, 'x', null, true] } }, { key: 'on', ts: 1, value: true }] },
  attributes: { tenantId: 't1', deviceId: 'd1', scope: 'shared', values: { target: 21, mode: 'eco', cfg: { a: null } }, deleted: ['old'] },
  rpcRequest: { deviceId: 'd1', requestId: 7, method: 'setValve', params: { open: true }, oneway: false, expiresAt: 1_700_000_060_000, nodeId: 'node-a', toNode: 'node-b', payload: 'AQI=' },
  rpcResponse: { deviceId: 'd1', requestId: 7, response: { done: 1 }, nodeId: 'node-b' },
  status: { tenantId: 't1', deviceId: 'd1', online: true, lastActivity: 5, lastConnect: 4, lastDisconnect: 3, transport: 'mqtt', nodeId: 'node-a', epoch: 4 },
  rpcDelivered: { deviceId: 'd1', requestId: 7, nodeId: 'node-b' },
  alarm: { tenantId: 't1', deviceId: 'd1', action: 'repeated', alarm: { ...alarm } },
  command: { tenantId: 't1', deviceId: 'd1', command: { ...command } },
  ruleError: { tenantId: 't1', ruleId: 'r1', ruleName: 'hot', deviceId: 'd1', stage: 'action', action: 'webhook', message: 'refused', ts: 9 },
  mqttSession: { space: 't1', key: 't1\u0000d1\u0000client-1', token: 'tok-1', nodeId: 'node-a' },
  mqttMessage: { space: 't1', owner: 'd1', nodeId: 'node-a', topic: 'plant/valve/1', payload: 'AQI=', qos: 1, retain: true, properties: '{"contentType":"x"}', expiresAt: 1_700_000_060_000, origin: 't1\u0000d1\u0000client-1' },
};
