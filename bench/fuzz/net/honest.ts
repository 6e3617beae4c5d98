/**
 * The honest device: MQTT 3.1.1, QoS 1, one message in flight at a time, for as long as the
 * fuzzer runs. Each message carries its sequence number and its own timestamp, so the store can
 * be asked afterwards how many arrived: with one message in flight, every acknowledged message
 * must be stored, plus at most the one that was in flight when a connection dropped.
 * (MQTT 3.1.1 §4.3.2: a PUBACK means the receiver owns the message.)
 */
import mqtt from 'mqtt';
import type { ApiClient } from '../../../test/support/platform.js';
import type { TelemetryStore } from '../../../src/ports.js';

export interface HonestReport {
  readonly sent: number;
  readonly acked: number;
  readonly stored: number;
  /** Acknowledged but not stored: must be 0. */
  readonly lost: number;
  readonly reconnects: number;
  /** Slowest PUBACK seen, ms: the platform kept answering while it was fuzzed. */
  readonly maxAckMs: number;
}

export interface HonestDevice {
  stop(): Promise<HonestReport>;
}

/**
 * `store` answers the final count: the REST fuzzer signs the admin out (`POST /api/auth/logout`),
 * changes passwords and deletes keys, so a REST client held since the start may be revoked by then.
 */
export async function startHonestDevice(api: ApiClient, store: TelemetryStore, mqttPort: number, pauseMs = 5): Promise<HonestDevice> {
  const device = await api.createDevice(`fuzz-honest-${Date.now()}`);
  const base = Date.now() - 3_600_000; // in the past, so no timestamp is ever "in the future"
  const client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, {
    protocolVersion: 4,
    username: device.accessToken,
    clientId: `honest-${device.id}`,
    reconnectPeriod: 500,
    connectTimeout: 10_000,
    clean: true,
  });
  client.on('error', () => undefined);
  let reconnects = 0;
  client.on('reconnect', () => reconnects++);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    setTimeout(() => reject(new Error('honest device could not connect in 10 s')), 10_000).unref();
  });

  let running = true;
  let sent = 0;
  let acked = 0;
  let maxAckMs = 0;
  const loop = (async () => {
    while (running) {
      const seq = sent + 1;
      sent = seq;
      const started = performance.now();
      try {
        await client.publishAsync('v1/devices/me/telemetry', JSON.stringify({ ts: base + seq, values: { seq } }), { qos: 1 });
        acked++;
        maxAckMs = Math.max(maxAckMs, performance.now() - started);
      } catch {
        // Not acknowledged (connection lost before PUBACK): may or may not be stored.
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  })();

  return {
    async stop() {
      running = false;
      await loop;
      await client.endAsync();
      const counted = await store.queryAggregated({ deviceId: device.id, keys: ['seq'], from: base, to: base + sent + 1, interval: sent + 2, agg: 'count' });
      const stored = Number(counted.seq?.[0]?.value ?? 0);
      return { sent, acked, stored, lost: Math.max(0, acked - stored), reconnects, maxAckMs: Math.round(maxAckMs) };
    },
  };
}
