/**
 * Two brokers as two nodes of a cluster, linked through one bus (BusMqttClusterLink over the memory
 * bus, as the NATS bus links processes): a client id connecting to the other node takes the session
 * over, also when two connect at once (exactly one stays); messages are routed across once, not
 * echoed back; retained messages are kept on both.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { MemoryBus } from '../../../../src/adapters/bus/memory/index.js';
import { BusMqttClusterLink } from '../../../../src/services/mqtt-cluster.js';
import { client, collect, silentLogger, startBroker, type TestBroker } from './helpers.js';

const open: TestBroker[] = [];
const clients: MqttClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  for (const b of open.splice(0)) await b.close();
});

async function twoNodes(): Promise<[TestBroker, TestBroker]> {
  const bus = new MemoryBus(silentLogger);
  const nodes = await Promise.all(['a', 'b'].map((id) => startBroker({ cluster: new BusMqttClusterLink(bus, id, silentLogger) })));
  for (const n of nodes) await n.broker.restore(); // starts hearing the other node
  open.push(...nodes);
  return nodes as [TestBroker, TestBroker];
}

async function connect(node: TestBroker, clientId: string, protocolVersion: 4 | 5 = 5): Promise<MqttClient> {
  const c = await client(node.url, { clientId, protocolVersion });
  clients.push(c);
  return c;
}

/** Resolves with the DISCONNECT reason code the server sent before closing (undefined: none). */
function closedBy(c: MqttClient): Promise<number | undefined> {
  let reason: number | undefined;
  c.on('disconnect', (packet) => (reason = packet.reasonCode));
  return new Promise((resolve) => c.once('close', () => resolve(reason)));
}

describe('MQTT broker across cluster nodes', () => {
  it('a client id connecting to the other node takes the session over (0x8E); the newer connection stays', async () => {
    const [a, b] = await twoNodes();
    const first = await connect(a, 'c1');
    const closed = closedBy(first);
    const second = await connect(b, 'c1');
    assert.equal(await closed, 0x8e);
    assert.equal(second.connected, true);
    assert.equal(a.broker.connectionCount, 0);
    assert.equal(b.broker.connectionCount, 1);
  });

  it('two connections of one client id racing on two nodes: exactly one is left', async () => {
    const [a, b] = await twoNodes();
    const [x, y] = await Promise.all([connect(a, 'racer'), connect(b, 'racer')]);
    const closedX = closedBy(x);
    const closedY = closedBy(y);
    const loser = await Promise.race([closedX.then(() => x), closedY.then(() => y)]);
    const winner = loser === x ? y : x;
    // A message routed across after the announcements reaches the winner: it is still connected.
    await winner.subscribeAsync('after/race', { qos: 1 });
    const probe = await connect(loser === x ? b : a, 'probe');
    const inbox = collect(winner);
    await probe.publishAsync('after/race', 'x', { qos: 1 });
    assert.equal((await inbox.next(10_000)).topic, 'after/race');
    assert.equal(winner.connected, true);
    assert.equal(a.broker.connectionCount + b.broker.connectionCount, 2, 'the winner and the probe');
  });

  it('routes a message to subscribers on both nodes once each, and keeps retained messages on both', async () => {
    const [a, b] = await twoNodes();
    const onA = await connect(a, 'sub-a');
    const onB = await connect(b, 'sub-b');
    const inboxA = collect(onA);
    const inboxB = collect(onB);
    await onA.subscribeAsync('t/#', { qos: 1 });
    await onB.subscribeAsync('t/#', { qos: 1 });
    const pub = await connect(a, 'pub');
    await pub.publishAsync('t/1', 'one', { qos: 1 });
    await pub.publishAsync('t/2', 'two', { qos: 0, retain: true });
    await pub.publishAsync('t/3', 'end', { qos: 1 });
    for (const inbox of [inboxA, inboxB]) {
      // Messages of one publisher arrive in order: once `end` is in, a duplicate of the others would have come before it.
      while ((await inbox.next(10_000)).payload !== 'end');
      assert.deepEqual(inbox.messages.map((m) => `${m.topic} ${m.payload}`), ['t/1 one', 't/2 two', 't/3 end']);
    }
    assert.equal(b.broker.retainedOf('', 't/2')?.msg.payload.toString(), 'two');
    assert.equal(a.broker.retainedOf('', 't/2')?.msg.payload.toString(), 'two');
  });
});
