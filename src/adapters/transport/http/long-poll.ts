/**
 * One HTTP long poll over a non-persistent DeviceSession: answered with the first event,
 * 408 when `timeoutMs` passes, and abandoned when the client goes away or the server stops.
 * The session is closed in every case, synchronously with the answer, so the platform stops
 * delivering to it at once.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JsonValue } from '../../../domain/telemetry.js';
import type { DeviceSession } from '../../../ports/device-api.js';

export interface LongPollSpec<T> {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly timeoutMs: number;
  /** Opens the session; `deliver` may be called before open() returns. */
  open(deliver: (event: T) => void): DeviceSession;
  render(event: T): JsonValue;
  /** Answers with the event itself when it is not JSON (raw bytes); default: `render` as JSON. */
  send?(reply: FastifyReply, event: T): void;
  /**
   * Folds events that arrive within one turn of the event loop into one answer. Without it
   * the first event answers at once.
   */
  merge?(a: T, b: T): T;
  /** An event that reached the session after the poll was answered. */
  late?(event: T): void;
}

/** Open polls, so that a stopping server can end them instead of waiting for their timeout. */
export class LongPolls {
  private readonly open = new Set<() => void>();

  get size(): number {
    return this.open.size;
  }

  /** Runs one long poll to completion; resolves once it has been answered or abandoned. */
  run<T>(spec: LongPollSpec<T>): Promise<void> {
    const { request, reply } = spec;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let session: DeviceSession | undefined;
      let pending: { event: T } | undefined;
      const cleanup = (): void => {
        settled = true;
        clearTimeout(timer);
        this.open.delete(abort);
        request.raw.off('close', onGone);
        reply.raw.off('close', onGone);
        session?.close();
      };
      const finish = (answer: () => void): void => {
        if (settled) return;
        cleanup();
        if (!reply.sent && !reply.raw.destroyed) answer();
        resolve();
      };
      const onGone = (): void => finish(() => undefined);
      const abort = (): void => finish(() => void reply.code(503).send({ error: 'UNAVAILABLE', message: 'server is stopping' }));
      const flush = (): void => {
        const current = pending;
        if (current) finish(() => (spec.send ? spec.send(reply.code(200), current.event) : void reply.code(200).send(spec.render(current.event))));
      };
      const deliver = (event: T): void => {
        if (settled) {
          spec.late?.(event);
        } else if (!spec.merge) {
          pending = { event };
          flush();
        } else if (pending) {
          pending = { event: spec.merge(pending.event, event) };
        } else {
          pending = { event };
          setImmediate(flush);
        }
      };
      const timer = setTimeout(() => finish(() => void reply.code(408).send()), spec.timeoutMs);
      this.open.add(abort);
      request.raw.on('close', onGone);
      reply.raw.on('close', onGone);
      if (request.raw.socket?.destroyed === true) {
        onGone();
        return;
      }
      let opened: DeviceSession;
      try {
        opened = spec.open(deliver);
      } catch (err) {
        cleanup();
        reject(err as Error);
        return;
      }
      if (settled) opened.close();
      else session = opened;
    });
  }

  /** Ends every open poll with 503 (server stopping). */
  abortAll(): void {
    for (const abort of [...this.open]) abort();
  }
}
