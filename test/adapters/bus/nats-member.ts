/**
 * A node for nats-nodes.test.ts, run in its own process so the test can SIGKILL it: joins the
 * group `rules`, prints `ready`, then `took <ts>#<attempt>` for each delivery it holds forever.
 * Arguments: NATS URL, prefix, and optionally maxDeliveries.
 */
import { NatsBus } from '../../../src/adapters/bus/nats/index.js';

const [url, prefix, maxDeliveries] = process.argv.slice(2) as [string, string, string | undefined];
const bus = await NatsBus.connect({ url, prefix, partitions: 4, ackWaitMs: 1500 });
bus.subscribe('telemetry', 'telemetry.>', (m, _s, d) => {
  process.stdout.write(`took ${m.points[0]?.ts}#${d.attempt}\n`);
  return new Promise<void>(() => undefined);
}, { group: 'rules', maxDeliveries: maxDeliveries === undefined ? undefined : Number(maxDeliveries) });
// a publish waits for the subscription's setup: once it resolved, the consumers exist
await bus.publish('status', 'status.t1.warmup', { tenantId: 't1', deviceId: 'warmup', online: true });
process.stdout.write('ready\n');
