/**
 * The edge's interfaces. A connector speaks one field protocol (Modbus TCP today) and turns it
 * into readings of named child devices and commands into writes; it knows nothing of the
 * buffer, the uplink or the rules. The composition root (app.ts) wires a sink behind it.
 */
import type { JsonValue } from '../domain/telemetry.js';

/** One poll of one child device: every key read at `ts`. */
export interface Reading {
  readonly device: string;
  /** Epoch ms; strictly increasing per device, so (device, key, ts) names the reading. */
  readonly ts: number;
  readonly values: Readonly<Record<string, JsonValue>>;
}

/** Where a connector hands its readings; synchronous so a reading is persisted before the next poll. */
export interface ReadingSink {
  reading(reading: Reading): void;
  /**
   * Runs a command on any device of this edge, whichever connector owns it (an SMS `PUMP ON`
   * switching a Modbus coil), locally, so it works offline. Optional: a lone connector has none.
   */
  command?(device: string, method: string, params: JsonValue): Promise<JsonValue>;
  /**
   * The connector's view of one field device changed: it answers (`online`) or stopped answering
   * (the line is gone, every request timed out). The platform shows it through the gateway API
   * (v1/gateway/connect / disconnect). Optional for connectors: a device never reported on
   * counts as connected while its connector runs.
   */
  deviceStatus?(device: string, online: boolean, reason?: string): void;
  /**
   * Client attributes read from a field device (OPC UA: serial number, firmware version), shown as
   * the child's client attributes on the platform (v1/gateway/attributes). Optional: only
   * connectors that read such values call it; they are not buffered, the latest are sent again
   * at each reconnect.
   */
  attributes?(device: string, values: Readonly<Record<string, JsonValue>>): void;
}

/** A firmware image the edge downloaded and checked (SHA-256 of the whole image). */
export interface FirmwareImage {
  readonly title: string;
  readonly version: string;
  /** Hex SHA-256 of `bytes`. */
  readonly sha256: string;
  readonly bytes: Buffer;
}

export interface ConnectorStatus {
  readonly name: string;
  readonly connected: boolean;
  readonly errors: number;
  readonly lastError?: string;
  readonly polls: number;
  /** Duration of the last complete poll cycle of any device, ms. */
  readonly lastPollMs?: number;
}

export interface Connector {
  readonly name: string;
  /** Child devices this connector answers for (names on the platform). */
  readonly devices: readonly string[];
  start(sink: ReadingSink): Promise<void>;
  stop(): Promise<void>;
  /**
   * Runs a command for one of its devices and resolves with the reply for the platform.
   * Rejects with a message meant for the operator (unknown method, bad value, device error).
   */
  handleCommand(device: string, method: string, params: JsonValue): Promise<JsonValue>;
  /**
   * Writes a verified firmware image into one of its devices and resolves with the version the
   * device reports running afterwards. Absent: the connector cannot (the update fails "not
   * supported by connector"). Rejects with a message for the operator.
   */
  writeFirmware?(device: string, image: FirmwareImage): Promise<{ version: string }>;
  /** A free text to one of its devices (SMS connectors: the rule action `sms`); absent elsewhere. */
  sendText?(device: string, text: string): Promise<JsonValue>;
  status(): ConnectorStatus;
}

export interface EdgeLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
