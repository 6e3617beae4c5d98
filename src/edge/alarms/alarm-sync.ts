/**
 * Sends edge alarms whose latest state the platform has not acknowledged, over
 * `v1/gateway/alarm` at QoS 1, whenever the platform is reachable: at each connect and after
 * each change. A row is marked synced (for the version sent) only on the PUBACK, which the
 * platform sends after its commit; the platform applies a lifecycle idempotently, so one sent
 * twice (connection lost before the PUBACK) is stored once.
 */
import type { JsonValue } from '../../domain/telemetry.js';
import type { EdgeLogger } from '../ports.js';
import type { EdgeAlarm, EdgeAlarmStore } from './alarm-store.js';

export const ALARM_TOPIC = 'v1/gateway/alarm';

/** What the sync needs of the uplink. */
export interface AlarmLink {
  /** QoS 1; resolves on PUBACK, rejects when the connection is down or breaks first. */
  publishAcked(topic: string, body: JsonValue): Promise<void>;
  onConnected(listener: () => void): void;
}

export function alarmMessage(a: EdgeAlarm): JsonValue {
  return { device: a.device, id: a.id, type: a.type, severity: a.severity, details: a.details, raisedAt: a.raisedAt, clearedAt: a.clearedAt ?? null };
}

export class AlarmSync {
  /** id → version in flight. */
  private readonly inflight = new Map<string, number>();
  private synced = 0;

  constructor(
    private readonly store: EdgeAlarmStore,
    private readonly link: AlarmLink,
    private readonly logger: EdgeLogger,
  ) {
    store.onChange(() => this.pump());
    link.onConnected(() => {
      this.inflight.clear();
      this.pump();
    });
  }

  stats(): { synced: number; inflight: number } {
    return { synced: this.synced, inflight: this.inflight.size };
  }

  private pump(): void {
    for (const alarm of this.store.pending(50)) {
      if ((this.inflight.get(alarm.id) ?? 0) >= alarm.version) continue;
      this.inflight.set(alarm.id, alarm.version);
      this.link.publishAcked(ALARM_TOPIC, alarmMessage(alarm)).then(
        () => {
          this.store.markSynced(alarm.id, alarm.version);
          this.synced++;
          if (this.inflight.get(alarm.id) === alarm.version) this.inflight.delete(alarm.id);
          this.logger.info({ alarm: alarm.id, device: alarm.device, type: alarm.type, cleared: alarm.clearedAt !== undefined }, 'edge alarm synced');
          this.pump();
        },
        () => {
          // Down or broken: the next connect sends it again.
          if (this.inflight.get(alarm.id) === alarm.version) this.inflight.delete(alarm.id);
        },
      );
    }
  }
}
