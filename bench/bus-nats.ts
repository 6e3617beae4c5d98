/**
 * The NATS JetStream bus against a raw `nats` client, same run, same server, same payloads.
 *
 *   node --import tsx bench/bus-nats.ts [--messages N] [--devices D] [--in-flight W] [--partitions P] [--url nats://127.0.0.1:4222]
 *
 * Telemetry events (one point each, D devices round robin), encoded once with the bus schema so
 * both sides publish the same bytes. Four figures:
 * - raw publish: `js.publish` with W acknowledgements outstanding, to a stream of its own;
 * - bus publish: NatsBus.publish (schema check, encode, partition, JetStream ack) with W
 *   outstanding;
 * - bus consume: the backlog of the bus publish drained by one work-queue member of a group
 *   created before publishing (P partition consumers, max_ack_pending 1 each: the ordering
 *   guarantee's price), each message decoded, validated and acknowledged; timed from the first
 *   message handled;
 * - raw consume: the raw stream drained by one durable pull consumer with explicit acks and
 *   no ordering limit (max_ack_pending W), the server's ceiling for acknowledged consumption.
 * Every stream of the run is deleted at the end. The last line of output is JSON.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { AckPolicy, connect, DeliverPolicy, StorageType } from 'nats';
import { NatsBus } from '../src/adapters/bus/nats/index.js';
import { encodeBusEvent } from '../src/domain/bus-events.js';
import type { BusEvents } from '../src/ports.js';

const { values: args } = parseArgs({
  options: { messages: { type: 'string' }, devices: { type: 'string' }, 'in-flight': { type: 'string' }, partitions: { type: 'string' }, url: { type: 'string' } },
});
const positive = (name: string, raw: string | undefined, fallback: number): number => {
  const n = Number(raw ?? fallback);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
};
const TOTAL = positive('messages', args.messages, 100_000);
const DEVICES = positive('devices', args.devices, 1_000);
const WINDOW = positive('in-flight', args['in-flight'], 1_000);
const PARTITIONS = positive('partitions', args.partitions, 64);
const URL = args.url ?? 'nats://127.0.0.1:4222';
const PREFIX = `bench${randomBytes(4).toString('hex')}`;

interface Rate {
  readonly messagesPerSecond: number;
  readonly seconds: number;
}
const rate = (startedAt: number, n = TOTAL): Rate => {
  const seconds = (performance.now() - startedAt) / 1000;
  return { messagesPerSecond: Math.round(n / seconds), seconds: Math.round(seconds * 1000) / 1000 };
};

const message = (i: number): BusEvents['telemetry'] => ({ tenantId: 't1', deviceId: `d${i % DEVICES}`, points: [{ key: 'energy', ts: 1_735_689_600_000 + i, value: i / 10 }] });

/** Runs `task(i)` for i in 0..TOTAL-1 with at most WINDOW unsettled. */
async function windowed(task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < TOTAL) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(WINDOW, TOTAL) }, lane));
}

async function until(check: () => boolean, what: string, ms = 600_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const nc = await connect({ servers: URL.split(','), name: 'bench-raw' });
const jsm = await nc.jetstreamManager();
const js = nc.jetstream();
const bus = await NatsBus.connect({ url: URL, prefix: PREFIX, partitions: PARTITIONS, name: 'bench-bus' });
try {
  const payloads = Array.from({ length: Math.min(TOTAL, 10_000) }, (_, i) => encodeBusEvent('telemetry', message(i)));
  console.log(`${TOTAL} telemetry events (${payloads[0]?.length ?? 0} bytes), ${DEVICES} devices, ${WINDOW} in flight, ${PARTITIONS} partitions, ${URL}, prefix ${PREFIX}`);

  // raw publish
  const rawStream = `${PREFIX}_raw`;
  await jsm.streams.add({ name: rawStream, subjects: [`${PREFIX}.raw.>`, `${PREFIX}.warm.>`], storage: StorageType.File, num_replicas: 1 });
  // warm-up (JIT, connection buffers), not timed: whichever side ran first would pay it
  await Promise.all(Array.from({ length: 500 }, (_, i) => js.publish(`${PREFIX}.warm.t1.d${i}`, payloads[0])));
  let startedAt = performance.now();
  await windowed((i) => js.publish(`${PREFIX}.raw.${i % PARTITIONS}.t1.d${i % DEVICES}`, payloads[i % payloads.length]));
  const rawPublish = rate(startedAt);
  console.log(`raw js.publish:      ${rawPublish.messagesPerSecond.toLocaleString('en')} msg/s (${rawPublish.seconds} s)`);

  // bus publish, into a group created before (its members gone: the backlog waits for the next)
  bus.subscribe('telemetry', 'telemetry.>', () => undefined, { group: 'bench' })();
  await bus.publish('telemetry', 'telemetry.t1.warmup', message(0)); // waits for the group's consumers; not timed
  let consumed = 0;
  startedAt = performance.now();
  await windowed((i) => bus.publish('telemetry', `telemetry.t1.d${i % DEVICES}`, message(i)));
  const busPublish = rate(startedAt);
  console.log(`NatsBus.publish:     ${busPublish.messagesPerSecond.toLocaleString('en')} msg/s (${busPublish.seconds} s)`);

  // bus consume: the backlog (and the warm-up message), one member; timed from the first
  // message handled (joining the group, one pull per partition consumer, is not the rate)
  let firstAt = 0;
  const off = bus.subscribe('telemetry', 'telemetry.>', () => {
    if (consumed++ === 0) firstAt = performance.now();
  }, { group: 'bench' });
  await until(() => consumed >= TOTAL + 1, 'the bus group to drain');
  const busConsume = rate(firstAt, TOTAL);
  off();
  console.log(`NatsBus group drain: ${busConsume.messagesPerSecond.toLocaleString('en')} msg/s (${busConsume.seconds} s)`);

  // raw consume: one durable pull consumer, explicit acks, no ordering limit
  await jsm.consumers.add(rawStream, { durable_name: 'raw', filter_subject: `${PREFIX}.raw.>`, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: WINDOW });
  let rawConsumed = 0;
  startedAt = performance.now();
  const messages = await (await js.consumers.get(rawStream, 'raw')).consume({ max_messages: Math.min(WINDOW, 1000) });
  for await (const m of messages) {
    m.ack();
    if (++rawConsumed >= TOTAL) break;
  }
  const rawConsume = rate(startedAt);
  console.log(`raw pull consume:    ${rawConsume.messagesPerSecond.toLocaleString('en')} msg/s (${rawConsume.seconds} s)`);

  const publishRatio = Math.round((busPublish.messagesPerSecond / rawPublish.messagesPerSecond) * 100) / 100;
  const consumeRatio = Math.round((busConsume.messagesPerSecond / rawConsume.messagesPerSecond) * 100) / 100;
  console.log(`bus / raw: publish ${publishRatio}, consume ${consumeRatio}`);
  console.log(JSON.stringify({ messages: TOTAL, devices: DEVICES, inFlight: WINDOW, partitions: PARTITIONS, rawPublish, busPublish, busConsume, rawConsume, publishRatio, consumeRatio, node: process.version, server: nc.info?.version }));
} finally {
  await bus.close();
  for await (const name of jsm.streams.names()) if (name.startsWith(PREFIX)) await jsm.streams.delete(name);
  await nc.close();
}
