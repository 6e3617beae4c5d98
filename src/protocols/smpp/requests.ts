/**
 * The requests an ESME has outstanding on one SMPP session: sequence numbers, matching responses
 * to requests, timeouts, and failing what is left when the session drops. Shared by the
 * platform's SMS sender and the edge's SMS connector.
 */
import type { Socket } from 'node:net';
import { encodePdu, type Pdu } from './pdu.js';

interface Pending {
  resolve(pdu: Pdu): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class SmppRequests {
  private sequence = 0;
  private readonly pending = new Map<number, Pending>();

  /** `timeoutError` makes the error of a request the SMSC did not answer in time. */
  constructor(private readonly timeoutError: (commandId: number, timeoutMs: number) => Error) {}

  /** Sequence numbers run 1 … 0x7FFFFFFF (SMPP 3.4 §5.1.4). */
  private next(): number {
    this.sequence = this.sequence >= 0x7fffffff ? 1 : this.sequence + 1;
    return this.sequence;
  }

  /** Writes a request and resolves with its response. */
  send(socket: Socket, commandId: number, timeoutMs: number, body?: Buffer): Promise<Pdu> {
    const sequence = this.next();
    return new Promise<Pdu>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(sequence);
        reject(this.timeoutError(commandId, timeoutMs));
      }, timeoutMs);
      this.pending.set(sequence, { resolve, reject, timer });
      socket.write(encodePdu(commandId, sequence, body));
    });
  }

  /** Settles the request a response answers; false when no request waits for it. */
  settle(response: Pdu): boolean {
    const p = this.pending.get(response.sequence);
    if (!p) return false;
    this.pending.delete(response.sequence);
    clearTimeout(p.timer);
    p.resolve(response);
    return true;
  }

  /** The session is gone: every outstanding request fails with `err`. */
  failAll(err: Error): void {
    for (const [sequence, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(sequence);
      p.reject(err);
    }
  }
}
