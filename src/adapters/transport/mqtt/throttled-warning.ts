/**
 * Warnings for limits a flood can hit thousands of times a second (a full session queue, the
 * session cap): counted always (metrics), logged at most every 10 s with how many since.
 */
import type { Logger } from '../../../ports.js';

const EVERY_MS = 10_000;

export class ThrottledWarning {
  private last = 0;
  private since = 0;

  constructor(
    private readonly logger: Logger,
    private readonly message: string,
  ) {}

  note(fields: Record<string, unknown>): void {
    this.since++;
    const now = Date.now();
    if (now - this.last < EVERY_MS) return;
    this.logger.warn({ ...fields, times: this.since }, this.message);
    this.last = now;
    this.since = 0;
  }
}
