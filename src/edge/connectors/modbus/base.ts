/**
 * What the Modbus TCP and RTU connectors share (modbus-serial as the client): each configured
 * device polled at its own interval, its register map decoded into one reading per poll,
 * command methods mapped to coil and register writes, and a reconnect with exponential backoff
 * when the line goes away. Subclasses only open the line and judge what a failure means.
 *
 * Requests are sent one at a time: modbus-serial keeps the unit id as client state, a serial
 * line carries one transaction at a time by nature (Modbus over serial line V1.02, 2.1), and
 * many TCP PLCs serve one transaction per connection at a time anyway.
 */
import { configuredCommand, connectorStatus, reportDeviceStatus } from '../common.js';
import modbusSerial from 'modbus-serial';
import type { ModbusRTU as Client } from 'modbus-serial/ModbusRTU.js';
import type { JsonValue } from '../../../domain/telemetry.js';
import type { Connector, ConnectorStatus, EdgeLogger, FirmwareImage, ReadingSink } from '../../ports.js';
import { writeFirmwareBlocks } from './firmware.js';
import { decodeRegisters, encodeRegisters, EncodeError, planReads, registerCount, type ReadBlock } from '../../../protocols/modbus/registers.js';
import type { ModbusCommandConfig, ModbusDeviceConfig, ModbusRegisterConfig, ModbusRtuConfig, ModbusTcpConfig } from './schema.js';

// modbus-serial is CommonJS (module.exports = ModbusRTU) with typings written as an ES default
// export; under NodeNext the default import is the exports object itself, i.e. the constructor.
const ModbusRTU = modbusSerial as unknown as new () => Client;
export type { Client as ModbusClient };

interface DeviceRuntime {
  readonly config: ModbusDeviceConfig;
  readonly blocks: readonly ReadBlock<ModbusRegisterConfig>[];
  timer?: NodeJS.Timeout;
  nextDue: number;
  lastTs: number;
  /** Whether the device answered its last poll (an exception response is an answer); unknown before the first. */
  online?: boolean;
}

/** Modbus exception responses carry a code (spec 7): the slave answered, the link is fine. */
export function modbusCode(err: unknown): number | undefined {
  const code = (err as { modbusCode?: unknown } | null)?.modbusCode;
  return typeof code === 'number' ? code : undefined;
}

export function errorText(err: unknown): string {
  const code = modbusCode(err);
  const text = err instanceof Error ? err.message : typeof err === 'object' && err !== null && 'message' in err ? String((err as { message: unknown }).message) : String(err);
  return code === undefined || text.startsWith('Modbus exception') ? text : `Modbus exception ${code}: ${text}`;
}

export function isTimeout(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'TransactionTimedOutError';
}

export abstract class ModbusConnectorBase implements Connector {
  readonly name: string;
  readonly devices: readonly string[];
  protected client: Client | undefined;
  protected connected = false;
  protected stopped = true;
  private sink: ReadingSink | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly runtimes = new Map<string, DeviceRuntime>();
  protected counters = { errors: 0, polls: 0 };
  protected lastError: string | undefined;
  private lastPollMs: number | undefined;

  constructor(
    protected readonly config: ModbusTcpConfig | ModbusRtuConfig,
    protected readonly logger: EdgeLogger,
    protected readonly now: () => number = Date.now,
  ) {
    this.name = config.name;
    this.devices = config.devices.map((d) => d.name);
    for (const d of config.devices) this.runtimes.set(d.name, { config: d, blocks: planReads(d.registers), nextDue: 0, lastTs: 0 });
  }

  /** Opens the line on a fresh client (connectTCP, connectRTUBuffered, …). */
  protected abstract openLine(client: Client): Promise<void>;
  /** Where the line goes, for messages: host:port or the serial path. */
  protected abstract where(): string;
  /** Called for every failed request after it was counted; true = the line is gone, reopen it. */
  protected abstract isLineLost(err: unknown, unitId: number): boolean;
  /** Called after every successful request. */
  protected abstract answered(unitId: number): void;

  async start(sink: ReadingSink): Promise<void> {
    this.sink = sink;
    this.stopped = false;
    await this.connect();
    const now = this.now();
    for (const rt of this.runtimes.values()) {
      rt.nextDue = now;
      this.schedule(rt);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    for (const rt of this.runtimes.values()) clearTimeout(rt.timer);
    await this.queue.catch(() => undefined);
    this.closeClient();
  }

  status(): ConnectorStatus {
    return connectorStatus(this.name, this.connected, this.counters, this.lastError, this.lastPollMs);
  }

  async handleCommand(device: string, method: string, params: JsonValue): Promise<JsonValue> {
    const { rt, command } = configuredCommand(this.runtimes, device, method);
    const value = commandValue(command, params);
    let registers: number[];
    try {
      registers = encodeRegisters(value, command);
    } catch (err) {
      if (err instanceof EncodeError) throw new Error(`${method}: ${err.message}`);
      throw err;
    }
    if (!this.connected) throw new Error(`${this.name}: not connected to ${this.where()}`);
    try {
      await this.request(rt.config.unitId, async (client) => {
        if (command.fc === 5) await client.writeCoil(command.address, registers[0] !== 0);
        else if (command.fc === 6) await client.writeRegister(command.address, registers[0] as number);
        else await client.writeRegisters(command.address, registers);
      });
    } catch (err) {
      this.noteError(err, rt.config.unitId, { device, method, fc: command.fc, address: command.address });
      throw new Error(`${method}: ${errorText(err)}`);
    }
    this.logger.info({ connector: this.name, device, method, address: command.address, fc: command.fc, value }, 'modbus write');
    return { ok: true, method, address: command.address, value: value as JsonValue };
  }

  /**
   * The image through the Modbus block transfer (./firmware.ts), for devices configured with a
   * `firmware` area; its requests queue with the polls, so polling goes on between blocks.
   */
  async writeFirmware(device: string, image: FirmwareImage): Promise<{ version: string }> {
    const rt = this.runtimes.get(device);
    if (!rt) throw new Error(`unknown device "${device}"`);
    const area = rt.config.firmware;
    if (!area) throw new Error(`not supported by device configuration: "${device}" has no firmware area`);
    const unitId = rt.config.unitId;
    const pause = () => new Promise<void>((resolve) => setTimeout(resolve, this.config.reconnect.minMs));
    this.logger.info({ connector: this.name, device, version: image.version, bytes: image.bytes.length }, 'firmware transfer to the device');
    const result = await writeFirmwareBlocks(
      (fn) =>
        this.request(unitId, fn).catch((err: unknown) => {
          this.noteError(err, unitId, { device, firmware: image.version });
          throw new Error(errorText(err));
        }),
      area.base,
      image,
      pause,
    );
    this.logger.info({ connector: this.name, device, version: result.version }, 'firmware applied by the device');
    return result;
  }

  private schedule(rt: DeviceRuntime): void {
    if (this.stopped) return;
    const delay = Math.max(0, rt.nextDue - this.now());
    rt.timer = setTimeout(() => {
      void this.pollDevice(rt).finally(() => {
        // Fixed rate: the next poll is due one interval after this one was; a late cycle skips ahead instead of bursting.
        rt.nextDue += rt.config.pollMs;
        const now = this.now();
        if (rt.nextDue < now) rt.nextDue = now;
        this.schedule(rt);
      });
    }, delay);
  }

  private async pollDevice(rt: DeviceRuntime): Promise<void> {
    if (!this.connected || this.stopped) return;
    const started = this.now();
    const ts = Math.max(started, rt.lastTs + 1);
    const values: Record<string, JsonValue> = {};
    let answered = false;
    let failure: string | undefined;
    for (const block of rt.blocks) {
      try {
        const data = await this.request(rt.config.unitId, (client) => readBlock(client, block));
        answered = true;
        for (const item of block.items) {
          const at = item.address - block.address;
          values[item.key] = block.fc <= 2 ? Boolean(data[at]) : decodeRegisters((data as number[]).slice(at, at + registerCount(item.type, item.count)), item);
        }
      } catch (err) {
        if (modbusCode(err) !== undefined) answered = true;
        else failure = errorText(err);
        if (!this.stopped) this.noteError(err, rt.config.unitId, { device: rt.config.name, fc: block.fc, address: block.address });
      }
    }
    this.counters.polls++;
    this.lastPollMs = this.now() - started;
    if (!this.stopped && rt.blocks.length > 0) this.deviceStatus(rt, answered, failure);
    if (Object.keys(values).length === 0 || this.stopped) return;
    rt.lastTs = ts;
    this.sink?.reading({ device: rt.config.name, ts, values });
  }

  /** Tells the sink when a device starts or stops answering (not on every poll). */
  private deviceStatus(rt: DeviceRuntime, online: boolean, reason?: string): void {
    reportDeviceStatus(rt, { connector: this.name, device: rt.config.name, sink: this.sink, logger: this.logger }, online, reason);
  }

  /** Runs one Modbus transaction after the previous one finished. */
  private request<T>(unitId: number, fn: (client: Client) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const client = this.client;
      if (!client || !this.connected) throw new Error('not connected');
      client.setID(unitId);
      const result = await fn(client);
      this.answered(unitId);
      return result;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private noteError(err: unknown, unitId: number, context: object): void {
    this.counters.errors++;
    const text = errorText(err);
    if (text !== this.lastError) this.logger.warn({ connector: this.name, unitId, ...context, err: text }, 'modbus request failed');
    this.lastError = text;
    if (modbusCode(err) !== undefined) return;
    if ((this.client && !this.client.isOpen) || this.isLineLost(err, unitId)) this.lost(text);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.closeClient();
    const client = new ModbusRTU();
    this.client = client;
    try {
      await this.openLine(client);
      client.setTimeout(this.config.timeoutMs);
      if (this.client !== client) return;
      client.on('close', () => {
        if (this.client === client) this.lost('connection closed');
      });
      client.on('error', (err: unknown) => this.logger.debug({ connector: this.name, err: errorText(err) }, 'modbus line error'));
      this.connected = true;
      if (this.attempt > 0) this.logger.info({ connector: this.name, line: this.where() }, 'modbus reconnected');
      this.attempt = 0;
    } catch (err) {
      this.lost(errorText(err));
    }
  }

  protected lost(reason: string): void {
    if (this.stopped) return;
    const wasConnected = this.connected;
    this.connected = false;
    this.closeClient();
    // No line, no device answers: each is reported once, and again as soon as a poll gets an answer.
    for (const rt of this.runtimes.values()) this.deviceStatus(rt, false, reason);
    if (this.reconnectTimer) return;
    // Exponential backoff with ±20 % jitter, so a fleet of gateways does not reconnect in step.
    const base = Math.min(this.config.reconnect.maxMs, this.config.reconnect.minMs * 2 ** this.attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt++;
    this.lastError = reason;
    if (wasConnected || this.attempt === 1) this.logger.warn({ connector: this.name, line: this.where(), reason, retryInMs: delay }, 'modbus connection lost');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delay);
  }

  private closeClient(): void {
    const client = this.client;
    this.client = undefined;
    this.connected = false;
    if (!client) return;
    try {
      client.close(() => undefined);
    } catch {
      // already closed
    }
  }
}

async function readBlock(client: Client, block: ReadBlock<ModbusRegisterConfig>): Promise<readonly (number | boolean)[]> {
  switch (block.fc) {
    case 1:
      return (await client.readCoils(block.address, block.quantity)).data;
    case 2:
      return (await client.readDiscreteInputs(block.address, block.quantity)).data;
    case 3:
      return (await client.readHoldingRegisters(block.address, block.quantity)).data;
    case 4:
      return (await client.readInputRegisters(block.address, block.quantity)).data;
  }
}

/** The value a command writes: fixed in config, or params.value, or params itself when scalar. */
function commandValue(command: ModbusCommandConfig, params: JsonValue): unknown {
  if (command.value !== undefined) return command.value;
  if (params !== null && typeof params === 'object' && !Array.isArray(params)) {
    if (Object.hasOwn(params, 'value')) return params.value;
    throw new Error(`${command.method}: params need "value"`);
  }
  return params;
}
