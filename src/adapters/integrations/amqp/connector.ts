/**
 * Stream out to RabbitMQ over AMQP 0-9-1 (issue 18), on amqplib. Records are published
 * persistent to an exchange (declared durable when missing; `topic` by default) with the
 * routing key its template renders (default `{event}.{tenantId}.{deviceId}`), on a confirm
 * channel: a batch counts as sent once the broker confirmed every message. An optional queue
 * is declared and bound (`#`) so nothing is lost before a consumer exists. amqplib does not
 * reconnect: this link does, with back-off, and the runner sends what waited.
 */
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { Type } from '@sinclair/typebox';
import { PlatformError } from '../../../domain/errors.js';
import { renderTemplate, type Integration, type JsonObject } from '../../../domain/integrations.js';
import type { IntegrationConnector, IntegrationLink, IntegrationLinkEvents, PinnedHosts } from '../../../ports.js';
import { checkConfig, pinnedUrl, withTimeout } from '../config.js';

const Name = Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9_.:-]+$' });

export const AmqpConfig = Type.Object(
  {
    url: Type.String({ pattern: '^amqps?://[^@]+$', maxLength: 2048, description: 'amqp://host:port/vhost (credentials go in username/password)' }),
    username: Type.String({ maxLength: 256, default: 'guest' }),
    password: Type.Optional(Type.String({ maxLength: 1024 })),
    exchange: Name,
    exchangeType: Type.Union([Type.Literal('topic'), Type.Literal('direct'), Type.Literal('fanout')], { default: 'topic' }),
    routingKey: Type.String({ minLength: 1, maxLength: 255, default: '{event}.{tenantId}.{deviceId}' }),
    queue: Type.Optional(Name),
    ackTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }),
    reconnectMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 1000 }),
  },
  { additionalProperties: false },
);
type Config = typeof AmqpConfig.static;

export const amqpConnector: IntegrationConnector = {
  type: 'amqp',
  secretFields: ['password'],
  validate: (raw) => checkConfig(AmqpConfig, raw, 'amqp') as unknown as JsonObject,
  directions: () => ({ out: true, in: false }),
  targets: (config) => [new URL((config as { url: string }).url)],
  open: (integration, events, pinned) => openLink(integration, events, pinned),
};

function openLink(integration: Integration, events: IntegrationLinkEvents, pinned: PinnedHosts): IntegrationLink {
  const c = integration.config as unknown as Config;
  // The address the outbound policy allowed, never the name again (TLS still checks the name).
  const target = pinnedUrl(c.url, pinned);
  let conn: ChannelModel | undefined;
  let channel: ConfirmChannel | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const lost = (err?: unknown): void => {
    channel = undefined;
    conn = undefined;
    events.onDisconnected(err);
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void open();
    }, c.reconnectMs);
  };
  const open = async (): Promise<void> => {
    try {
      const connection = await amqp.connect(target.url, { credentials: amqp.credentials.plain(c.username, c.password ?? ''), ...(target.servername ? { servername: target.servername } : {}) });
      if (closed) return void (await connection.close());
      conn = connection;
      connection.on('error', () => undefined); // 'close' follows and reconnects
      connection.on('close', (err?: unknown) => {
        if (conn === connection) lost(err ?? new PlatformError('UNAVAILABLE', 'amqp: connection closed'));
      });
      const ch = await connection.createConfirmChannel();
      await ch.assertExchange(c.exchange, c.exchangeType, { durable: true });
      if (c.queue) {
        await ch.assertQueue(c.queue, { durable: true });
        await ch.bindQueue(c.queue, c.exchange, c.exchangeType === 'topic' ? '#' : '');
      }
      channel = ch;
      events.onConnected();
    } catch (err) {
      lost(err);
    }
  };
  void open();

  return {
    async send(records) {
      const ch = channel;
      if (!ch) throw new PlatformError('UNAVAILABLE', 'amqp: not connected');
      for (const r of records) {
        const key = renderTemplate(c.routingKey, { tenantId: r.tenantId, deviceId: r.deviceId, deviceName: r.deviceName, event: r.event });
        ch.publish(c.exchange, key, Buffer.from(r.payload), { persistent: true, contentType: 'application/json', messageId: `${integration.id}:${r.seq}`, timestamp: Math.floor(r.ts / 1000) });
      }
      await withTimeout(ch.waitForConfirms(), c.ackTimeoutMs, 'amqp');
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const connection = conn;
      conn = undefined;
      await connection?.close().catch(() => undefined);
    },
  };
}
