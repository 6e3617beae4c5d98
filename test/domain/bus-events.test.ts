import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUS_EVENT_NAMES, BUS_EVENT_VERSIONS, BusSchemaError, decodeBusEvent, encodeBusEvent, isBusEvent } from '../../src/domain/bus-events.js';
import type { BusEvents } from '../../src/ports.js';
import { BUS_SAMPLES } from './bus-event-samples.js';

const events = Object.keys(BUS_SAMPLES) as (keyof BusEvents)[];

test('every bus event has a version, and a sample of each round-trips through its JSON envelope', () => {
  assert.deepEqual([...BUS_EVENT_NAMES].sort(), [...events].sort());
  for (const event of events) {
    const text = encodeBusEvent(event, BUS_SAMPLES[event]);
    const envelope = JSON.parse(text) as { e: string; v: number };
    assert.equal(envelope.e, event);
    assert.equal(envelope.v, BUS_EVENT_VERSIONS[event]);
    assert.deepEqual(decodeBusEvent(text, event), BUS_SAMPLES[event], event);
  }
});

test('a version this build does not read is refused, as is another event than expected', () => {
  const text = encodeBusEvent('telemetry', BUS_SAMPLES.telemetry);
  const future = JSON.stringify({ ...(JSON.parse(text) as object), v: BUS_EVENT_VERSIONS.telemetry + 1 });
  assert.throws(() => decodeBusEvent(future, 'telemetry'), (err: unknown) => err instanceof BusSchemaError && /not readable/.test(err.message));
  assert.throws(() => decodeBusEvent(text, 'status'), BusSchemaError);
  assert.throws(() => decodeBusEvent('{"e":"nope","v":1,"d":{}}'), BusSchemaError);
  assert.throws(() => decodeBusEvent('not json'), BusSchemaError);
});

test('messages that do not fit their schema are refused on both sides', () => {
  const bad: [keyof BusEvents, unknown][] = [
    ['telemetry', { tenantId: 't', deviceId: 'd', points: [{ key: 'k', ts: Number.NaN, value: 1 }] }],
    ['telemetry', { tenantId: 't', deviceId: 'd', points: [{ key: 'k', ts: 1, value: null }] }],
    ['telemetry', { tenantId: 't', deviceId: 'd' }],
    ['attributes', { tenantId: 't', deviceId: 'd', scope: 'secret', values: {} }],
    ['status', { tenantId: 't', deviceId: 'd', online: 'yes' }],
    ['alarm', { tenantId: 't', deviceId: 'd', action: 'raised', alarm: { ...BUS_SAMPLES.alarm.alarm, severity: 'fatal' } }],
    ['command', { tenantId: 't', deviceId: 'd', command: { ...BUS_SAMPLES.command.command, status: 'LOST' } }],
    ['rpcRequest', { deviceId: 'd', requestId: 1, method: 'm', params: { f: () => 1 }, oneway: false, expiresAt: 1 }],
  ];
  for (const [event, message] of bad) {
    assert.equal(isBusEvent(event, message), false, `${event}: ${JSON.stringify(message)}`);
    assert.throws(() => encodeBusEvent(event, message as never), BusSchemaError);
    // (a function vanishes in JSON: that one is caught on the encoding side only)
    if (event !== 'rpcRequest') assert.throws(() => decodeBusEvent(JSON.stringify({ e: event, v: BUS_EVENT_VERSIONS[event], d: message }), event), BusSchemaError);
  }
});
