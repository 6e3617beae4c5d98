/**
 * Stream out to NATS JetStream (issue 18). Each record is published to
 * `<subjectPrefix>.<subject template>` (default `<prefix>.{event}.{tenantId}.{deviceId}`) in a
 * stream the connector creates when missing (`<prefix>.>`, file storage), and counts as sent
 * once JetStream's PubAck came back. The message id is `<integration>:<seq>`, so a batch sent
 * again after a lost acknowledgement is dropped by JetStream's de-duplication window (2 min)
 * instead of stored twice. The client reconnects by itself; the runner sends what waited.
 */
import { connect, headers, type JetStreamClient, type NatsConnection } from 'nats';
import { Type } from '@sinclair/typebox';
import { PlatformError } from '../../../domain/errors.js';
import { renderTemplate, type Integration, type JsonObject } from '../../../domain/integrations.js';
import type { IntegrationConnector, IntegrationLink, IntegrationLinkEvents, PinnedHosts } from '../../../ports.js';
import { checkConfig, pinnedUrl, withTimeout } from '../config.js';

const Token = '^[A-Za-z0-9_-]+$';

export const NatsConfig = Type.Object(
  {
    servers: Type.Array(Type.String({ pattern: '^(nats|tls)://[^@/]+$', maxLength: 512, description: 'nats://host:port (credentials go in user/password or token)' }), {
      minItems: 1,
      maxItems: 16,
    }),
    stream: Type.String({ pattern: Token, maxLength: 64, description: 'JetStream stream name (created when missing)' }),
    subjectPrefix: Type.String({ pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$', maxLength: 128 }),
    subject: Type.String({ minLength: 1, maxLength: 512, default: '{event}.{tenantId}.{deviceId}' }),
    user: Type.Optional(Type.String({ maxLength: 256 })),
    password: Type.Optional(Type.String({ maxLength: 1024 })),
    token: Type.Optional(Type.String({ maxLength: 1024 })),
    createStream: Type.Boolean({ default: true }),
    ackTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }),
  },
  { additionalProperties: false },
);
type Config = typeof NatsConfig.static;

export const natsConnector: IntegrationConnector = {
  type: 'nats',
  secretFields: ['password', 'token'],
  validate(raw) {
    const config = checkConfig(NatsConfig, raw, 'nats');
    if (/[*>\s]/.test(config.subject)) throw new PlatformError('BAD_REQUEST', 'nats config: subject must not contain wildcards or spaces');
    return config as unknown as JsonObject;
  },
  directions: () => ({ out: true, in: false }),
  targets: (config) => (config as { servers: string[] }).servers.map((s) => new URL(s)),
  open: (integration, events, pinned) => openLink(integration, events, pinned),
};

function openLink(integration: Integration, events: IntegrationLinkEvents, pinned: PinnedHosts): IntegrationLink {
  const c = integration.config as unknown as Config;
  // The addresses the outbound policy allowed, never the names again.
  const servers = c.servers.map((s) => pinnedUrl(s, pinned).url);
  let nc: NatsConnection | undefined;
  let js: JetStreamClient | undefined;
  let closed = false;
  void (async () => {
    const conn = await connect({
      servers,
      name: `continuum-integration-${integration.id}`,
      // Servers a cluster advertises (INFO connect_urls) would bypass the outbound policy.
      ignoreClusterUpdates: true,
      reconnect: true,
      maxReconnectAttempts: -1,
      waitOnFirstConnect: true,
      ...(c.user !== undefined ? { user: c.user } : {}),
      ...(c.password !== undefined ? { pass: c.password } : {}),
      ...(c.token !== undefined ? { token: c.token } : {}),
    });
    if (closed) {
      await conn.close();
      return;
    }
    nc = conn;
    if (c.createStream) {
      const jsm = await conn.jetstreamManager();
      try {
        await jsm.streams.info(c.stream);
      } catch {
        await jsm.streams.add({ name: c.stream, subjects: [`${c.subjectPrefix}.>`] });
      }
    }
    js = conn.jetstream();
    events.onConnected();
    for await (const s of conn.status()) {
      if (s.type === 'disconnect') events.onDisconnected(new PlatformError('UNAVAILABLE', `nats: disconnected from ${String(s.data)}`));
      else if (s.type === 'reconnect') events.onConnected();
    }
  })().catch((err: unknown) => events.onDisconnected(err));

  return {
    async send(records) {
      if (!js || !nc || nc.isClosed()) throw new PlatformError('UNAVAILABLE', 'nats: not connected');
      const client = js;
      const acks = records.map((r) => {
        const h = headers();
        h.set('content-type', 'application/json');
        const subject = `${c.subjectPrefix}.${renderTemplate(c.subject, { tenantId: r.tenantId, deviceId: r.deviceId, deviceName: r.deviceName, event: r.event })}`;
        return client.publish(subject, Buffer.from(r.payload), { msgID: `${integration.id}:${r.seq}`, headers: h, timeout: c.ackTimeoutMs });
      });
      await withTimeout(Promise.all(acks), c.ackTimeoutMs + 1000, 'nats');
    },
    async close() {
      closed = true;
      // close, not drain: everything sent was already acknowledged (or stays buffered).
      await nc?.close().catch(() => undefined);
    },
  };
}
