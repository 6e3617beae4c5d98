/**
 * A broadcast subscription on JetStream: an ordered consumer (ephemeral, no acks, recreated by
 * the client from the last sequence it saw after a gap or a reconnect) over every partition of
 * the pattern, starting after the stream's last sequence when it subscribes. Messages are
 * handled one at a time in stream order (one partition, as on the memory bus); a handler that
 * fails is called again after the back-off, up to maxDeliveries, then the message is
 * dead-lettered: the subscription is this process's own, so retrying is local.
 *
 * Delivery starts from the stream position when the consumer is created, not from the call to
 * subscribe(): the bus makes its own publishes wait for subscriptions being set up (see bus.ts),
 * so within one node nothing published after subscribe() is missed; a message published on
 * another node at that moment may or may not be seen, as with any broadcast.
 */
import type { Consumer, ConsumerMessages, JetStreamClient } from 'nats';
import type { BusDelivery, BusEvents, DeadLetter, Logger } from '../../../ports.js';
import type { Resources } from './resources.js';
import { busSubject, wireFilter } from './subjects.js';

type Handler = (message: unknown, subject: string, delivery: BusDelivery) => unknown;

export interface BroadcastOptions {
  readonly prefix: string;
  readonly event: keyof BusEvents;
  readonly pattern: string;
  readonly maxDeliveries: number;
  readonly redeliveryDelayMs: (attempt: number) => number;
  readonly handler: Handler;
  readonly decode: (text: string) => unknown;
  readonly deadLetter: (letter: DeadLetter) => void;
  readonly logger: Logger | undefined;
}

/**
 * Messages the client buffers ahead of the handler (one fetch); a fetch ends after 30 s without
 * messages and the next one starts. A new object per call: the client writes its callback into it.
 */
const fetchOptions = (): { max_messages: number; expires: number } => ({ max_messages: 256, expires: 30_000 });

export class BroadcastSubscription {
  private batch: ConsumerMessages | undefined;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly js: JetStreamClient,
    private readonly resources: Resources,
    private readonly o: BroadcastOptions,
  ) {}

  async start(): Promise<void> {
    const { o } = this;
    const stream = await this.resources.stream(o.event);
    const from = (await this.resources.lastSequence(stream)) + 1;
    const consumer = await this.js.consumers.get(stream, { filterSubjects: wireFilter(o.prefix, o.event, o.pattern, '*'), opt_start_seq: from });
    // the first fetch creates the server's consumer: from here on nothing published is missed
    const first = await consumer.fetch(fetchOptions());
    if (this.stopped) {
      await first.close();
      return;
    }
    this.batch = first;
    this.loop = this.run(consumer, first);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.batch?.close().catch(() => undefined);
    await this.loop;
  }

  /**
   * Fetches in batches (rather than `consume`, which pulls more as messages arrive, not as they
   * are handled): what this process buffers ahead of a slow handler stays bounded by one batch.
   */
  private async run(consumer: Consumer, first: ConsumerMessages): Promise<void> {
    let batch = first;
    for (;;) {
      try {
        for await (const m of batch) {
          if (this.stopped) return;
          const subject = busSubject(m.subject);
          let message: unknown;
          try {
            message = this.o.decode(m.string());
          } catch (err) {
            this.o.deadLetter({ event: this.o.event, subject, group: undefined, attempts: 1, message: m.string(), error: err });
            continue;
          }
          await this.deliver(subject, message, m.string());
        }
      } catch (err) {
        // a fetch that ends in an error (heartbeats missed, server restarted): the next one recovers
        if (!this.stopped) this.o.logger?.warn({ err, pattern: this.o.pattern }, 'bus: broadcast fetch ended with an error');
      }
      if (this.stopped) return;
      try {
        batch = await consumer.fetch(fetchOptions());
      } catch (err) {
        // the server is away: the client reconnects; try again after a pause
        this.o.logger?.warn({ err, pattern: this.o.pattern }, 'bus: broadcast fetch failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      if (this.stopped) {
        await batch.close();
        return;
      }
      this.batch = batch;
    }
  }

  /** Calls the handler until it succeeds; each retry gets a fresh decode (the handler may have changed its copy). */
  private async deliver(subject: string, first: unknown, text: string): Promise<void> {
    let message = first;
    for (let attempt = 1; !this.stopped; attempt++) {
      if (attempt > 1) message = this.o.decode(text);
      try {
        await this.o.handler(message, subject, { subject, attempt });
        return;
      } catch (error) {
        if (attempt >= this.o.maxDeliveries) {
          this.o.deadLetter({ event: this.o.event, subject, group: undefined, attempts: attempt, message, error });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, this.o.redeliveryDelayMs(attempt + 1)));
      }
    }
  }
}
