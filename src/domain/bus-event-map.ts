/**
 * The events that cross the bus, by name (the first token of a subject). They are domain types:
 * the versioned wire schema (bus-events.ts) and the Bus port (ports.ts) both read them.
 */
import type { AttributeScope, DeviceStatus } from './device.js';
import type { JsonValue, Point } from './telemetry.js';
import type { Alarm, Command } from './action-apis.js';

/** What happened to an alarm (its history's entries and the `alarm` bus event). */
export type AlarmAction = 'raised' | 'repeated' | 'acknowledged' | 'cleared';

/** Events that cross the bus. Subjects are dot-separated; the first token names the event. */
export interface BusEvents {
  /** Telemetry committed to the store. */
  telemetry: { tenantId: string; deviceId: string; points: readonly Point[] };
  /** Attributes changed in a scope. */
  attributes: { tenantId: string; deviceId: string; scope: AttributeScope; values: Record<string, JsonValue>; deleted?: string[] };
  /**
   * A command for the node holding the device's session. `nodeId`: the node that sent it and
   * waits for the reply; `toNode`: the node Presence said holds the session (absent: unknown);
   * `payload`: base64 of what the profile's encodeDownlink made of {method, params}, which the
   * device gets instead of JSON.
   */
  rpcRequest: { deviceId: string; requestId: number; method: string; params: JsonValue; oneway: boolean; expiresAt: number; nodeId?: string; toNode?: string; payload?: string };
  /** A device's answer to a server-side RPC; `nodeId`: the node whose session received it. */
  rpcResponse: { deviceId: string; requestId: number; response: JsonValue; nodeId?: string };
  /** Connectivity changes. */
  status: DeviceStatus & { tenantId: string };
  /** An RPC request was handed to a live session of the device (or its gateway): written to the wire. */
  rpcDelivered: { deviceId: string; requestId: number; nodeId?: string };
  /** An alarm was raised, repeated, acknowledged or cleared. */
  alarm: { tenantId: string; deviceId: string; action: AlarmAction; alarm: Alarm };
  /** A command changed state. */
  command: { tenantId: string; deviceId: string; command: Command };
  /** A rule failed while evaluating or acting; ingest and other rules go on. Subject device token: the device id or '-'. */
  ruleError: { tenantId: string; ruleId: string; ruleName: string; deviceId?: string; stage: 'condition' | 'action'; action?: string; message: string; ts: number };
  /** An MQTT session was attached on `nodeId` (ports/mqtt-cluster.ts): another node's connection of it is taken over. */
  mqttSession: { space: string; key: string; token: string; nodeId: string };
  /**
   * An MQTT application message routed on `nodeId`, for the other nodes' subscribers
   * (ports/mqtt-cluster.ts); `payload` base64, `properties` the broker's JSON of PUBLISH properties.
   */
  mqttMessage: { space: string; owner: string; nodeId: string; topic: string; payload: string; qos: 0 | 1 | 2; retain: boolean; properties?: string; expiresAt: number; origin?: string };
}

export type BusSubject<E extends keyof BusEvents = keyof BusEvents> = `${E}.${string}` | E;
