/** Logging for messages a full session queue drops (MQTT 5.0 §4.1 leaves the limit to the server). */
import type { Logger } from '../../../ports.js';

/** Queue overflow is counted always (metrics) and logged at most every 10 s: a flood must not flood the log. */
export class DropLog {
  private last = 0;
  private since = 0;

  constructor(private readonly logger: Logger) {}

  note(limit: number): void {
    this.since++;
    const now = Date.now();
    if (now - this.last < 10_000) return;
    this.logger.warn({ dropped: this.since, maxQueuedMessages: limit }, 'mqtt session queue full: oldest messages dropped');
    this.last = now;
    this.since = 0;
  }
}
