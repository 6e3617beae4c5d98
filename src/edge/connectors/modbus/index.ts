/**
 * Modbus TCP connector (modbus-serial as the client): polls each configured device at its own
 * interval, decodes the register map into one reading per poll, maps command methods to coil
 * and register writes, and reconnects with exponential backoff when the PLC goes away.
 *
 * One TCP connection per connector; devices behind it are told apart by the unit identifier of
 * the MBAP header (Modbus Messaging on TCP/IP Implementation Guide 3.1.3). Requests are sent one
 * at a time: modbus-serial keeps the unit id as client state, and many PLCs serve one
 * transaction per connection at a time anyway.
 */
import modbusSerial from 'modbus-serial';
import type { ModbusRTU as Client } from 'modbus-serial/ModbusRTU.js';
import type { JsonValue } from '../../../domain/telemetry.js';
import type { ModbusCommandConfig, ModbusDeviceConfig, ModbusRegisterConfig, ModbusTcpConfig } from '../../config.js';
import type { Connector, ConnectorStatus, EdgeLogger, ReadingSink } from '../../ports.js';
import { decodeRegisters, encodeRegisters, EncodeError, planReads, registerCount, type ReadBlock } from './codec.js';

// modbus-serial is CommonJS (module.exports = ModbusRTU) with typings written as an ES default
// export; under NodeNext the default import is the exports object itself, i.e. the constructor.
const ModbusRTU = modbusSerial as unknown as new () => Client;

interface DeviceRuntime {
  readonly config: ModbusDeviceConfig;
  readonly blocks: readonly ReadBlock<ModbusRegisterConfig>[];
  timer?: NodeJS.Timeout;
  nextDue: number;
  lastTs: number;
}

/** Modbus exception responses carry a code (spec 7): the PLC answered, the link is fine. */
function modbusCode(err: unknown): number | undefined {
  const code = (err as { modbusCode?: unknown } | null)?.modbusCode;
  return typeof code === 'number' ? code : undefined;
}

function message(err: unknown): string {
  const code = modbusCode(err);
  const text = err instanceof Error ? err.message : typeof err === 'object' && err !== null && 'message' in err ? String((err as { message: unknown }).message) : String(err);
  return code === undefined ? text : `Modbus exception ${code}: ${text}`;
}

export class ModbusTcpConnector implements Connector {
  readonly name: string;
  readonly devices: readonly string[];
  private client: Client | undefined;
  private connected = false;
  private stopped = true;
  private sink: ReadingSink | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private consecutiveTimeouts = 0;
  private readonly runtimes = new Map<string, DeviceRuntime>();
  private counters = { errors: 0, polls: 0 };
  private lastError: string | undefined;
  private lastPollMs: number | undefined;

  constructor(
    private readonly config: ModbusTcpConfig,
    private readonly logger: EdgeLogger,
    private readonly now: () => number = Date.now,
  ) {
    this.name = config.name;
    this.devices = config.devices.map((d) => d.name);
    for (const d of config.devices) this.runtimes.set(d.name, { config: d, blocks: planReads(d.registers), nextDue: 0, lastTs: 0 });
  }

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
    return {
      name: this.name,
      connected: this.connected,
      errors: this.counters.errors,
      polls: this.counters.polls,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      ...(this.lastPollMs !== undefined ? { lastPollMs: this.lastPollMs } : {}),
    };
  }

  async handleCommand(device: string, method: string, params: JsonValue): Promise<JsonValue> {
    const rt = this.runtimes.get(device);
    if (!rt) throw new Error(`unknown device "${device}"`);
    const command = rt.config.commands.find((c) => c.method === method);
    if (!command) throw new Error(`device "${device}" has no command "${method}" (${rt.config.commands.map((c) => c.method).join(', ') || 'none configured'})`);
    const value = commandValue(command, params);
    let registers: number[];
    try {
      registers = encodeRegisters(value, command);
    } catch (err) {
      if (err instanceof EncodeError) throw new Error(`${method}: ${err.message}`);
      throw err;
    }
    if (!this.connected) throw new Error(`${this.name}: not connected to ${this.config.host}:${this.config.port}`);
    await this.request(rt.config.unitId, async (client) => {
      if (command.fc === 5) await client.writeCoil(command.address, registers[0] !== 0);
      else if (command.fc === 6) await client.writeRegister(command.address, registers[0] as number);
      else await client.writeRegisters(command.address, registers);
    });
    this.logger.info({ connector: this.name, device, method, address: command.address, fc: command.fc, value }, 'modbus write');
    return { ok: true, method, address: command.address, value: value as JsonValue };
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
    for (const block of rt.blocks) {
      try {
        const data = await this.request(rt.config.unitId, (client) => readBlock(client, block));
        for (const item of block.items) {
          const at = item.address - block.address;
          values[item.key] = block.fc <= 2 ? Boolean(data[at]) : decodeRegisters((data as number[]).slice(at, at + registerCount(item.type, item.count)), item);
        }
      } catch (err) {
        if (!this.stopped) this.noteError(err, { device: rt.config.name, fc: block.fc, address: block.address });
      }
    }
    this.counters.polls++;
    this.lastPollMs = this.now() - started;
    if (Object.keys(values).length === 0 || this.stopped) return;
    rt.lastTs = ts;
    this.sink?.reading({ device: rt.config.name, ts, values });
  }

  /** Runs one Modbus transaction after the previous one finished. */
  private request<T>(unitId: number, fn: (client: Client) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const client = this.client;
      if (!client || !this.connected) throw new Error('not connected');
      client.setID(unitId);
      const result = await fn(client);
      this.consecutiveTimeouts = 0;
      return result;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private noteError(err: unknown, context: object): void {
    this.counters.errors++;
    const text = message(err);
    if (text !== this.lastError) this.logger.warn({ connector: this.name, ...context, err: text }, 'modbus request failed');
    this.lastError = text;
    if (modbusCode(err) !== undefined) return;
    const timedOut = (err as { name?: string } | null)?.name === 'TransactionTimedOutError';
    if (timedOut) this.consecutiveTimeouts++;
    // A dead socket, or a PLC that stopped answering, is a reconnect; one lost answer is not.
    if ((this.client && !this.client.isOpen) || this.consecutiveTimeouts >= 3) this.lost(text);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.closeClient();
    const client = new ModbusRTU();
    this.client = client;
    try {
      await client.connectTCP(this.config.host, { port: this.config.port });
      client.setTimeout(this.config.timeoutMs);
      if (this.client !== client) return;
      client.on('close', () => {
        if (this.client === client) this.lost('connection closed');
      });
      client.on('error', (err: unknown) => this.logger.debug({ connector: this.name, err: message(err) }, 'modbus socket error'));
      this.connected = true;
      this.consecutiveTimeouts = 0;
      if (this.attempt > 0) this.logger.info({ connector: this.name, host: this.config.host, port: this.config.port }, 'modbus reconnected');
      this.attempt = 0;
    } catch (err) {
      this.lost(message(err));
    }
  }

  private lost(reason: string): void {
    if (this.stopped) return;
    const wasConnected = this.connected;
    this.connected = false;
    this.closeClient();
    if (this.reconnectTimer) return;
    // Exponential backoff with ±20 % jitter, so a fleet of gateways does not reconnect in step.
    const base = Math.min(this.config.reconnect.maxMs, this.config.reconnect.minMs * 2 ** this.attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt++;
    this.lastError = reason;
    if (wasConnected || this.attempt === 1) this.logger.warn({ connector: this.name, host: this.config.host, port: this.config.port, reason, retryInMs: delay }, 'modbus connection lost');
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
