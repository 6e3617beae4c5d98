/**
 * Connection caps for every listener (HTTP, HTTPS, MQTT, MQTTS): a client that opens connections
 * without end meets a limit instead of exhausting file descriptors and memory. Each refusal is
 * counted; the warning is logged at most once per interval (a flood would otherwise become a
 * log flood), with the number refused since the last line.
 */
import type { Server } from 'node:net';

/** How often at most a refused-connection warning is logged per cap. */
const LOG_INTERVAL_MS = 60_000;

export interface WarnLogger {
  warn(fields: object, message: string): void;
}

/** Counts refusals and logs one warning per interval. */
export class RefusalLog {
  private refused = 0;
  private lastLog = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly logger: WarnLogger,
    private readonly fields: object,
    private readonly onRefused?: () => void,
  ) {}

  note(now = Date.now()): void {
    this.refused++;
    this.onRefused?.();
    if (now - this.lastLog < LOG_INTERVAL_MS) return;
    this.lastLog = now;
    this.logger.warn({ ...this.fields, refused: this.refused }, 'connection limit reached; new connections are closed');
    this.refused = 0;
  }
}

/**
 * Caps a listener's open connections: node closes any connection above `maxConnections` as soon
 * as it is accepted (and emits 'drop'), before any TLS handshake or request parsing.
 */
export function capConnections(server: Server, maxConnections: number, logger: WarnLogger, fields: object, onRefused?: () => void): void {
  server.maxConnections = maxConnections;
  const log = new RefusalLog(logger, { ...fields, maxConnections }, onRefused);
  server.on('drop', () => log.note());
}
