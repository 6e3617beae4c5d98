/**
 * MQTT control packets (3.1.1 and 5.0) built with mqtt-packet's generator from random fields:
 * CONNECT with and without will, credentials and properties; PUBLISH to the device API topics,
 * the gateway API, Sparkplug and random topics; SUBSCRIBE/UNSUBSCRIBE with wildcards; the
 * acknowledgements, PINGREQ, DISCONNECT and AUTH. A field combination mqtt-packet refuses to
 * encode becomes raw bytes of the same type, so nothing is lost to the generator's checks.
 */
import fc from 'fast-check';
import mqttPacket, { type Packet } from 'mqtt-packet';

export const DEVICE_TOPICS = [
  'v1/devices/me/telemetry',
  'v1/devices/me/attributes',
  'v1/devices/me/attributes/request/1',
  'v1/devices/me/rpc/request/7',
  'v1/devices/me/rpc/response/7',
  'v1/gateway/telemetry',
  'v1/gateway/attributes',
  'v1/gateway/connect',
  'v1/gateway/disconnect',
  'v1/gateway/rpc',
  'v1/gateway/attributes/request',
  'v2/t',
  '/provision/request',
  'spBv1.0/g/NBIRTH/n',
  'spBv1.0/g/DDATA/n/d',
  'spBv1.0/g/NDEATH/n',
  'devices/fuzz/x',
  '$SYS/broker',
  'test/nosubscribe',
];

const topic = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...DEVICE_TOPICS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '#', '+', 'a/#/b', 'a/+', '/', '//', 'a\u0000b', 'x'.repeat(300)) },
);
const filter = fc.oneof(topic, fc.constantFrom('v1/devices/me/attributes', 'v1/devices/me/rpc/request/+', 'v1/devices/me/attributes/response/+', '#', '+/+', '$share/g/#', 'a/#/b', 'spBv1.0/#'));
const qos = fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>;
const messageId = fc.integer({ min: 0, max: 65535 });
const version = fc.constantFrom(3, 4, 5) as fc.Arbitrary<3 | 4 | 5>;
const userProperties = fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 });

export interface ConnectOptions {
  readonly username: string;
  readonly clientIdPrefix: string;
}

/** A CONNECT for the fuzz device (its token as user name) in any protocol version. */
export function connectPacket(opts: ConnectOptions): fc.Arbitrary<Packet> {
  return fc.record({
    protocolVersion: version,
    clientId: fc.string({ maxLength: 8 }).map((s) => `${opts.clientIdPrefix}${s}`),
    clean: fc.boolean(),
    keepalive: fc.integer({ min: 0, max: 65535 }),
    will: fc.option(fc.record({ topic, payload: fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)), qos, retain: fc.boolean() }), { nil: undefined }),
    sessionExpiry: fc.option(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { nil: undefined }),
    receiveMaximum: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
    topicAliasMaximum: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
  }).map((r) => {
    const packet: Record<string, unknown> = {
      cmd: 'connect',
      protocolId: r.protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: r.protocolVersion,
      clientId: r.clientId,
      clean: r.protocolVersion === 5 ? r.clean : true,
      keepalive: r.keepalive,
      username: opts.username,
    };
    if (r.will) packet.will = r.will;
    if (r.protocolVersion === 5) {
      packet.properties = {
        ...(r.sessionExpiry !== undefined ? { sessionExpiryInterval: r.sessionExpiry } : {}),
        ...(r.receiveMaximum !== undefined ? { receiveMaximum: r.receiveMaximum } : {}),
        ...(r.topicAliasMaximum !== undefined ? { topicAliasMaximum: r.topicAliasMaximum } : {}),
      };
    }
    return packet as unknown as Packet;
  });
}

/** Any packet a connected client may send (and some it must not). */
export function clientPacket(payload: fc.Arbitrary<Buffer>): fc.Arbitrary<Packet> {
  const publish = fc.record({ topic, payload, qos, retain: fc.boolean(), dup: fc.boolean(), messageId, alias: fc.option(fc.integer({ min: 0, max: 70_000 }), { nil: undefined }), props: userProperties }).map((r) => ({
    cmd: 'publish' as const,
    topic: r.topic,
    payload: r.payload,
    qos: r.qos,
    retain: r.retain,
    dup: r.dup,
    ...(r.qos > 0 ? { messageId: r.messageId } : {}),
    properties: { ...(r.alias !== undefined ? { topicAlias: r.alias } : {}), userProperties: r.props },
  }));
  const subscribe = fc.record({ messageId, subs: fc.array(fc.record({ topic: filter, qos, nl: fc.boolean(), rap: fc.boolean(), rh: fc.constantFrom(0, 1, 2) }), { minLength: 1, maxLength: 4 }), id: fc.option(fc.integer({ min: 1, max: 268_435_455 }), { nil: undefined }) }).map((r) => ({
    cmd: 'subscribe' as const,
    messageId: r.messageId,
    subscriptions: r.subs,
    ...(r.id !== undefined ? { properties: { subscriptionIdentifier: r.id } } : {}),
  }));
  const unsubscribe = fc.record({ messageId, topics: fc.array(filter, { minLength: 1, maxLength: 3 }) }).map((r) => ({ cmd: 'unsubscribe' as const, ...r }));
  const ack = fc.record({ cmd: fc.constantFrom('puback', 'pubrec', 'pubrel', 'pubcomp'), messageId, reasonCode: fc.constantFrom(0, 0x10, 0x80, 0x92) });
  const simple = fc.constantFrom<Record<string, unknown>>({ cmd: 'pingreq' }, { cmd: 'disconnect' }, { cmd: 'disconnect', reasonCode: 0x04 }, { cmd: 'auth', reasonCode: 0x18 }, { cmd: 'pingresp' }, { cmd: 'connack', returnCode: 0 });
  return fc.oneof(
    { weight: 8, arbitrary: publish as fc.Arbitrary<Record<string, unknown>> },
    { weight: 2, arbitrary: subscribe as fc.Arbitrary<Record<string, unknown>> },
    { weight: 1, arbitrary: unsubscribe as fc.Arbitrary<Record<string, unknown>> },
    { weight: 1, arbitrary: ack as fc.Arbitrary<Record<string, unknown>> },
    { weight: 1, arbitrary: simple },
  ) as unknown as fc.Arbitrary<Packet>;
}

/** The packet's bytes for `protocolVersion`; an encoding mqtt-packet refuses becomes a raw frame of the same type. */
export function encode(packet: Packet, protocolVersion: number): Buffer {
  try {
    return mqttPacket.generate(packet, { protocolVersion });
  } catch {
    const type = ['connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', 'auth'].indexOf(packet.cmd) + 1;
    const body = Buffer.from(JSON.stringify(packet).slice(0, 100));
    return Buffer.concat([Buffer.from([(type << 4) | (type === 8 || type === 10 || type === 6 ? 2 : 0), body.length]), body]);
  }
}

/** One encoded packet (any version), for the pure framing surface. */
export function mqttPacketBytes(payload: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc.tuple(fc.oneof(clientPacket(payload), connectPacket({ username: 'token', clientIdPrefix: 'c' })), version).map(([p, v]) => encode(p, v));
}
