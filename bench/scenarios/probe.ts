/**
 * Publish → queryable, seen from outside: probe devices publish one QoS 1 message each (MQTT.js,
 * device timestamp = now, a unique pulseCounter) and poll GET /telemetry/latest until the value
 * is there. Runs in the bench process while the load generator keeps the platform busy.
 */
import mqtt from 'mqtt';
import { Histogram } from '../lib/histogram.js';
import type { Api } from '../lib/platform.js';
import { r3 } from '../lib/report.js';
import { TELEMETRY_TOPIC } from '../loadgen/mqtt-wire.js';

export interface ProbeResult {
  readonly samples: number;
  readonly puback_p50_ms: number;
  readonly puback_p99_ms: number;
  readonly queryable_p50_ms: number;
  readonly queryable_p99_ms: number;
  readonly queryable_max_ms: number;
  /** Probes whose value was queryable on the first GET after PUBACK. */
  readonly visible_at_puback: number;
}

export async function probeQueryable(api: Api, mqttPort: number, devices: readonly { id: string; accessToken: string }[], durationMs: number): Promise<ProbeResult> {
  const clients = await Promise.all(
    devices.map((d) => mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: d.accessToken, protocolVersion: 4, reconnectPeriod: 0 })),
  );
  const puback = new Histogram();
  const queryable = new Histogram();
  let visibleAtPuback = 0;
  let value = 1_000_000_000;
  const until = performance.now() + durationMs;
  try {
    while (performance.now() < until) {
      for (let i = 0; i < clients.length && performance.now() < until; i++) {
        const expected = ++value;
        const started = performance.now();
        await clients[i]!.publishAsync(TELEMETRY_TOPIC, JSON.stringify({ ts: Date.now(), values: { pulseCounter: expected } }), { qos: 1 });
        puback.recordMs(performance.now() - started);
        let polls = 0;
        for (;;) {
          polls++;
          const latest = await api.request<{ pulseCounter?: { value: unknown } }>('GET', `/api/devices/${devices[i]!.id}/telemetry/latest?keys=pulseCounter`);
          if (latest.pulseCounter?.value === expected) break;
          if (performance.now() - started > 10_000) throw new Error('probe value not queryable after 10 s');
        }
        queryable.recordMs(performance.now() - started);
        if (polls === 1) visibleAtPuback++;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await Promise.all(clients.map((c) => c.endAsync()));
  }
  return {
    samples: queryable.total,
    puback_p50_ms: r3(puback.percentileMs(50)),
    puback_p99_ms: r3(puback.percentileMs(99)),
    queryable_p50_ms: r3(queryable.percentileMs(50)),
    queryable_p99_ms: r3(queryable.percentileMs(99)),
    queryable_max_ms: r3(queryable.max / 1000),
    visible_at_puback: visibleAtPuback,
  };
}
