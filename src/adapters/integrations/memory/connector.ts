/**
 * An integration whose remote is in this process (tests, and the in-memory implementation every
 * port has): records it accepted, a switch to take the remote away and bring it back, and a way
 * to push inbound messages. Type `mqtt-bridge` is borrowed so the service accepts it; nothing
 * is validated beyond being an object.
 */
import { PlatformError } from '../../../domain/errors.js';
import type { ExportRecord, JsonObject } from '../../../domain/integrations.js';
import type { IntegrationConnector, IntegrationLinkEvents } from '../../../ports.js';

export interface MemoryRemote {
  readonly connector: IntegrationConnector;
  /** Every record acknowledged, in the order received (duplicates included). */
  readonly received: ExportRecord[];
  /** Up: sends succeed and the runner is told it is connected; down: sends fail UNAVAILABLE. */
  setUp(up: boolean): void;
  /** Fails the next n sends after the remote took them (an acknowledgement lost on the way). */
  loseAcks(n: number): void;
  /** A remote message for a device (direction in); resolves once committed. */
  inbound(deviceName: string, payload: string): Promise<void>;
}

export function createMemoryRemote(options: { up?: boolean; inbound?: boolean } = {}): MemoryRemote {
  let up = options.up ?? true;
  let lose = 0;
  const received: ExportRecord[] = [];
  const links = new Set<IntegrationLinkEvents>();
  return {
    received,
    connector: {
      type: 'mqtt-bridge',
      secretFields: ['password'],
      validate(config) {
        if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new PlatformError('BAD_REQUEST', 'config is not an object');
        return config as JsonObject;
      },
      directions: () => ({ out: true, in: options.inbound ?? false }),
      // In this process: nothing to connect to, nothing for the outbound policy to check.
      targets: () => [],
      open(_integration, events) {
        links.add(events);
        if (up) queueMicrotask(() => events.onConnected());
        return {
          async send(records) {
            if (!up) throw new PlatformError('UNAVAILABLE', 'memory remote is down');
            received.push(...records);
            if (lose > 0) {
              lose--;
              throw new PlatformError('UNAVAILABLE', 'acknowledgement lost');
            }
          },
          async close() {
            links.delete(events);
          },
        };
      },
    },
    setUp(value) {
      up = value;
      for (const l of links) {
        if (value) l.onConnected();
        else l.onDisconnected(new PlatformError('UNAVAILABLE', 'memory remote went away'));
      }
    },
    loseAcks(n) {
      lose = n;
    },
    async inbound(deviceName, payload) {
      for (const l of links) await l.onInbound?.(deviceName, Buffer.from(payload));
    },
  };
}
