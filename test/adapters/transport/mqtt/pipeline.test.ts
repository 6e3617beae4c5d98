/**
 * The broker's pipeline (interceptor.ts, pipeline.ts): stages run in the order they are given,
 * the first to handle a packet stops the chain, what every stage passes is routed, a refusal is a
 * catalogue error whose MQTT reason code the client gets, and PINGREQ and the connection's end
 * reach every stage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlatformError } from '../../../../src/domain/errors.js';
import { PASS, type ClientInterceptor, type InterceptedPublish, type Interceptor, type QoS } from '../../../../src/adapters/transport/mqtt/interceptor.js';
import { client, collect, sleep, startBroker, subackCodes } from './helpers.js';

/** A stage that takes topics under `prefix` and writes down everything it is asked. */
function recorder(name: string, prefix: string, log: string[], handle: (p: InterceptedPublish) => Promise<unknown> = () => Promise.resolve()): Interceptor {
  return {
    name,
    attach(link) {
      if (link.clientId.startsWith('ignored')) return undefined;
      const stage: ClientInterceptor = {
        name,
        publish(p) {
          log.push(`${name}:publish:${p.topic}`);
          return p.topic.startsWith(prefix) ? handle(p) : PASS;
        },
        subscribe(filter: string, qos: QoS) {
          log.push(`${name}:subscribe:${filter}`);
          if (filter === `${prefix}refused`) throw new PlatformError('FORBIDDEN', filter);
          return filter.startsWith(prefix) ? qos : PASS;
        },
        unsubscribe(filter) {
          log.push(`${name}:unsubscribe:${filter}`);
          return filter.startsWith(prefix);
        },
        ping() {
          log.push(`${name}:ping`);
        },
        close() {
          log.push(`${name}:close`);
        },
      };
      return stage;
    },
  };
}

function publishCode(c: Awaited<ReturnType<typeof client>>, topic: string): Promise<number> {
  return new Promise((resolve) => {
    c.publish(topic, 'x', { qos: 1 }, (err) => resolve((err as { code?: number } | undefined)?.code ?? 0));
  });
}

test('stages run in the given order; the first to take a packet stops the chain; what all pass is routed', async () => {
  const log: string[] = [];
  const tb = await startBroker({ interceptors: [recorder('first', 'a/', log), recorder('second', 'b/', log)] });
  try {
    const listener = await client(tb.url, { clientId: 'ignored-listener' });
    const inbox = collect(listener);
    await listener.subscribeAsync('c/#', { qos: 1 });
    const c = await client(tb.url, { clientId: 'dev', protocolVersion: 5 });
    assert.equal(await publishCode(c, 'a/1'), 0);
    assert.equal(await publishCode(c, 'b/1'), 0);
    assert.equal(await publishCode(c, 'c/1'), 0);
    assert.equal((await inbox.next()).topic, 'c/1', 'passed by every stage: routed');
    assert.deepEqual(log.filter((l) => l.includes(':publish:')), ['first:publish:a/1', 'first:publish:b/1', 'second:publish:b/1', 'first:publish:c/1', 'second:publish:c/1']);
    assert.equal(inbox.messages.length, 1, 'handled messages are never routed');
    assert.ok(!log.some((l) => l.includes('c/#')), 'a client no stage attached to costs the stages nothing');
    await c.endAsync();
    await listener.endAsync();
  } finally {
    await tb.close();
  }
});

test('a refusal is a catalogue error: its MQTT reason code answers the PUBLISH or SUBSCRIBE, counted once', async () => {
  const log: string[] = [];
  const refuse = (p: InterceptedPublish): Promise<unknown> => {
    if (p.topic === 'r/sync') throw new PlatformError('QUOTA_EXCEEDED', 'sync');
    return Promise.reject(new PlatformError('TOPIC_NOT_ALLOWED', 'async'));
  };
  const tb = await startBroker({ interceptors: [recorder('refuser', 'r/', log, refuse), recorder('after', 's/', log)] });
  try {
    const c = await client(tb.url, { clientId: 'dev', protocolVersion: 5 });
    assert.equal(await publishCode(c, 'r/sync'), 0x97, 'thrown: QUOTA_EXCEEDED');
    assert.equal(await publishCode(c, 'r/async'), 0x87, 'rejected: TOPIC_NOT_ALLOWED');
    assert.equal(tb.metrics.get('reject:mqtt:QUOTA_EXCEEDED'), 1);
    assert.equal(tb.metrics.get('reject:mqtt:TOPIC_NOT_ALLOWED'), 1);
    assert.ok(!log.includes('after:publish:r/sync'), 'a refusal stops the chain');
    assert.deepEqual(await subackCodes(c, ['r/refused', 's/ok', 'r/ok']), [0x87, 1, 1]);
    await c.endAsync();
  } finally {
    await tb.close();
  }
});

test('PINGREQ and the end of the connection reach every stage; UNSUBSCRIBE stops at the stage that owns the filter', async () => {
  const log: string[] = [];
  const tb = await startBroker({ interceptors: [recorder('first', 'a/', log), recorder('second', 'b/', log)] });
  try {
    const c = await client(tb.url, { clientId: 'dev', keepalive: 1 });
    await c.subscribeAsync('b/x', { qos: 1 });
    await c.unsubscribeAsync('b/x');
    await sleep(1300); // MQTT.js pings within the keep alive
    await c.endAsync();
    await sleep(50);
    assert.deepEqual(log.filter((l) => l.includes('subscribe:')), ['first:subscribe:b/x', 'second:subscribe:b/x', 'first:unsubscribe:b/x', 'second:unsubscribe:b/x']);
    const tail = log.filter((l) => l.endsWith(':ping') || l.endsWith(':close'));
    assert.deepEqual(tail.slice(0, 2), ['first:ping', 'second:ping']);
    assert.deepEqual(tail.slice(-2), ['first:close', 'second:close']);
  } finally {
    await tb.close();
  }
});
