/**
 * Modbus connectors: TCP (this file) and RTU over a serial line (rtu.ts), on the shared poll,
 * command and reconnect logic of base.ts.
 *
 * TCP: one connection per connector; devices behind it are told apart by the unit identifier of
 * the MBAP header (Modbus Messaging on TCP/IP Implementation Guide 3.1.3).
 */
import type { EdgeLogger } from '../../ports.js';
import { isTimeout, ModbusConnectorBase, type ModbusClient } from './base.js';
import type { ModbusTcpConfig } from './schema.js';

export { ModbusRtuConnector, type ModbusRtuStatus } from './rtu.js';

export class ModbusTcpConnector extends ModbusConnectorBase {
  private consecutiveTimeouts = 0;

  constructor(
    private readonly tcp: ModbusTcpConfig,
    logger: EdgeLogger,
    now: () => number = Date.now,
  ) {
    super(tcp, logger, now);
  }

  protected async openLine(client: ModbusClient): Promise<void> {
    this.consecutiveTimeouts = 0;
    await client.connectTCP(this.tcp.host, { port: this.tcp.port });
  }

  protected where(): string {
    return `${this.tcp.host}:${this.tcp.port}`;
  }

  protected answered(): void {
    this.consecutiveTimeouts = 0;
  }

  /** A dead socket, or a PLC that stopped answering three times running, is a reconnect; one lost answer is not. */
  protected isLineLost(err: unknown): boolean {
    if (isTimeout(err)) this.consecutiveTimeouts++;
    return this.consecutiveTimeouts >= 3;
  }
}
