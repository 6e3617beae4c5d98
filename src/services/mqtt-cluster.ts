/**
 * The MQTT cluster link (ports/mqtt-cluster.ts) over the bus: session announcements and routed
 * messages are broadcast events (`mqttSession`, `mqttMessage`), so every node hears every other
 * node's, in the order the bus keeps (on NATS JetStream: one stream per event, read in order by
 * each node's broadcast subscription). With the memory bus (one node) it hears only itself.
 */
import { createHash } from 'node:crypto';
import { subjectFor } from '../domain/subjects.js';
import type { Bus, Logger, MqttClusterHandlers, MqttClusterLink, MqttForwarded, MqttSessionAnnouncement } from '../ports.js';

/** A subject token from any string: kept when it is already a safe token, hashed otherwise (NATS tokens have no '.', '*', '>', spaces). */
function token(value: string): string {
  return /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : createHash('sha256').update(value).digest('hex').slice(0, 24);
}

export class BusMqttClusterLink implements MqttClusterLink {
  constructor(
    private readonly bus: Bus,
    readonly nodeId: string,
    private readonly logger: Logger,
  ) {}

  announce(a: Omit<MqttSessionAnnouncement, 'nodeId'>): void {
    const message = { space: a.space, key: a.key, token: a.token, nodeId: this.nodeId };
    this.bus.publish('mqttSession', subjectFor('mqttSession', token(a.space), token(a.key)), message).catch((err: unknown) =>
      // Without it another node's connection of this session stays open until that client goes.
      this.logger.warn({ err, space: a.space }, 'bus: announcing an MQTT session failed (no takeover on other nodes)'),
    );
  }

  forward(m: Omit<MqttForwarded, 'nodeId'>): void {
    const r = m.message;
    const message = {
      space: m.space,
      owner: m.owner,
      nodeId: this.nodeId,
      topic: r.topic,
      payload: r.payload.toString('base64'),
      qos: r.qos,
      retain: r.retain,
      expiresAt: r.expiresAt,
      ...(r.properties !== undefined ? { properties: r.properties } : {}),
      ...(r.origin !== undefined ? { origin: r.origin } : {}),
    };
    this.bus.publish('mqttMessage', subjectFor('mqttMessage', token(m.space), token(r.origin ?? '-')), message).catch((err: unknown) =>
      this.logger.warn({ err, space: m.space, topic: r.topic }, 'bus: forwarding an MQTT message to other nodes failed (delivered on this node only)'),
    );
  }

  listen(handlers: MqttClusterHandlers): () => void {
    const stops = [
      this.bus.subscribe('mqttSession', 'mqttSession.>', (msg) => handlers.announced(msg)),
      this.bus.subscribe('mqttMessage', 'mqttMessage.>', (msg) => {
        if (msg.nodeId === this.nodeId) return;
        handlers.forwarded({
          space: msg.space,
          owner: msg.owner,
          nodeId: msg.nodeId,
          message: {
            topic: msg.topic,
            payload: Buffer.from(msg.payload, 'base64'),
            qos: msg.qos,
            retain: msg.retain,
            properties: msg.properties,
            expiresAt: msg.expiresAt,
            origin: msg.origin,
          },
        });
      }),
    ];
    return () => stops.forEach((stop) => stop());
  }
}
