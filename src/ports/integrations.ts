/**
 * Integrations (issue 18): where their definitions and durable buffers are kept (part of the
 * Store), and the small port each connector implements (adapters/integrations/<type>/).
 */
import type { ExportEvent, ExportRecord, Integration, IntegrationType, JsonObject, NewExportRecord } from '../domain/integrations.js';
import type { LorawanDownlink, LorawanEvent } from '../domain/lorawan.js';

/** Definitions and per-integration durable buffers; the Store implements it (sqlite: migration 17). */
export interface IntegrationStore {
  listIntegrations(tenantId?: string): Promise<Integration[]>;
  getIntegration(id: string): Promise<Integration | undefined>;
  insertIntegration(integration: Integration): Promise<void>;
  /** Removes the definition and its buffer; false when there was none. */
  deleteIntegration(id: string): Promise<boolean>;
  /**
   * Appends records to the buffer in one transaction, keeping at most `maxRecords` (the oldest
   * go first); returns how many old records were dropped to make room.
   */
  enqueueExports(integrationId: string, records: readonly NewExportRecord[], maxRecords: number): Promise<number>;
  /** The oldest unacknowledged records, in order. */
  readExports(integrationId: string, limit: number): Promise<ExportRecord[]>;
  /** The remote has everything up to `seq`: those records leave the buffer (the persisted cursor). */
  ackExports(integrationId: string, uptoSeq: number): Promise<void>;
  /** Records waiting, and when the oldest of them entered (undefined: none). */
  exportBacklog(integrationId: string): Promise<{ count: number; oldestEnqueuedAt: number | undefined }>;
}

/** What a running connection tells the service about itself. */
export interface IntegrationLinkEvents {
  /** Connected to the remote (the service sends what waits), or lost it (with the reason). */
  onConnected(): void;
  onDisconnected(error?: unknown): void;
  /**
   * Inbound data (MQTT bridge, direction in): a device's telemetry as the device would send it
   * (ThingsBoard JSON). Resolves once committed, so the connector acknowledges the remote only then.
   */
  onInbound?(deviceName: string, payload: Buffer): Promise<void>;
  /**
   * A LoRaWAN network server's event (ChirpStack, TTS). Resolves once handled (an uplink:
   * committed); rejects when it was refused (unknown device, decoder failure), which the
   * connector counts and logs without stopping.
   */
  onLorawan?(event: LorawanEvent): Promise<void>;
  /** A message from the remote that could not be read at all (not JSON, wrong shape): counted and logged. */
  onMalformed?(reason: string, detail: { topic?: string }): void;
}

/** One live connection of one integration to its remote. */
export interface IntegrationLink {
  /**
   * Hands the records to the remote; resolves once the remote acknowledged every one (MQTT QoS
   * ≥ 1 PUBACK, JetStream PubAck, AMQP publisher confirm). Rejects (e.g. UNAVAILABLE) while the
   * remote is away: the records stay buffered and are sent again.
   */
  send(records: readonly ExportRecord[]): Promise<void>;
  /**
   * LoRaWAN connectors: queues a downlink at the network server; resolves once the server's
   * broker took it (PUBACK, or written at QoS 0). UNAVAILABLE while away.
   */
  downlink?(downlink: LorawanDownlink): Promise<void>;
  close(): Promise<void>;
}

/**
 * The addresses the outbound policy allowed for a link's hosts, by normalized host name
 * (domain/outbound/allow-list normalHostname): the link connects to these addresses and never
 * resolves the names again, so DNS cannot answer differently between the check and the connect.
 */
export type PinnedHosts = ReadonlyMap<string, string>;

/** A kind of integration: checks its config and opens links. */
export interface IntegrationConnector {
  readonly type: IntegrationType;
  /** Config fields never shown back (passwords, private keys): the API answers them as set/not set. */
  readonly secretFields: readonly string[];
  /**
   * The only events this type exports (FHIR: telemetry); absent, every event. The runner does
   * not subscribe to the others, so nothing is buffered that the link would only skip.
   */
  readonly events?: readonly ExportEvent[];
  /** Checks and normalizes a config (throws PlatformError BAD_REQUEST with the reason). */
  validate(config: unknown): JsonObject;
  /** Whether this config exports (out) and/or imports (in). */
  directions(config: JsonObject): { out: boolean; in: boolean };
  /** Every URL a link of this config connects to: the outbound policy checks each at save and before connecting. */
  targets(config: JsonObject): URL[];
  open(integration: Integration, events: IntegrationLinkEvents, pinned: PinnedHosts): IntegrationLink;
  /**
   * LoRaWAN connectors: how devices are bound, provisioned and addressed (the service needs it
   * for every event); absent for the other types.
   */
  lorawan?(config: JsonObject): LorawanSettings;
  /**
   * Webhook connectors (TTS): the secret a request must present, and the events its body holds
   * (throws BAD_REQUEST / MALFORMED_PAYLOAD when the body is not the server's shape).
   */
  webhook?: {
    secret(config: JsonObject): string | undefined;
    parse(config: JsonObject, body: unknown): LorawanEvent[];
  };
}

/** A LoRaWAN integration's settings the service acts on. */
export interface LorawanSettings {
  /** devEui: the Continuum device is named after the DevEUI (lowercase hex); deviceName: after the server's device name/id. */
  readonly bindBy: 'devEui' | 'deviceName';
  /** A device not found is created in this profile (of the integration's tenant); absent: refused. */
  readonly provisionProfileId?: string;
  /** fPort of a downlink whose encoder names none. */
  readonly fPort: number;
  /** Downlinks are sent confirmed (the device acknowledges; the command answers on that ack). */
  readonly confirmed: boolean;
}

/** Counters per integration; backlog and lag are gauges read from the service when scraped. */
export interface IntegrationMetrics {
  sent(integrationId: string, count: number): void;
  failed(integrationId: string): void;
  dropped(integrationId: string, count: number): void;
  received(integrationId: string, outcome: 'stored' | 'rejected'): void;
}
