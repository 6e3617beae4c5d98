/**
 * Modbus RTU connector: several slaves on one serial line (RS-485/RS-232), polled in turn by
 * unit id (the slave address, Modbus over serial line V1.02, 2.2), one request on the line at a
 * time. A slave that does not answer within timeoutMs is a timeout for that slave only: on a
 * shared bus one dead slave must not make the gateway reopen the port under the others. The port
 * is reopened (with backoff) only when it closes or errors, e.g. a USB adapter unplugged.
 *
 * Frames whose CRC does not match (serial line spec 2.5.1.2) are counted separately: a rising
 * count points at wiring, termination or baud/parity settings rather than at a slave.
 */
import type { ConnectorStatus, EdgeLogger } from '../../ports.js';
import { errorText, ModbusConnectorBase, type ModbusClient } from './base.js';
import type { ModbusRtuConfig } from './schema.js';

export interface ModbusRtuStatus extends ConnectorStatus {
  readonly crcErrors: number;
  readonly timeouts: number;
}

export class ModbusRtuConnector extends ModbusConnectorBase {
  private crcErrors = 0;
  private timeouts = 0;

  constructor(
    private readonly rtu: ModbusRtuConfig,
    logger: EdgeLogger,
    now: () => number = Date.now,
  ) {
    super(rtu, logger, now);
  }

  protected async openLine(client: ModbusClient): Promise<void> {
    // The buffered port waits for the whole expected frame length instead of trusting
    // inter-character gaps, which USB serial adapters and PTYs do not preserve.
    await client.connectRTUBuffered(this.rtu.path, {
      baudRate: this.rtu.baudRate,
      parity: this.rtu.parity,
      dataBits: this.rtu.dataBits,
      stopBits: this.rtu.stopBits,
    });
  }

  protected where(): string {
    return this.rtu.path;
  }

  protected answered(): void {
    // Nothing per slave to reset: timeouts never reopen a serial line.
  }

  protected isLineLost(err: unknown): boolean {
    const text = errorText(err);
    if (text.includes('CRC error')) this.crcErrors++;
    else if ((err as { name?: string } | null)?.name === 'TransactionTimedOutError') this.timeouts++;
    // A missing slave is not a missing line; only a closed port (checked by the base) is.
    return /port is not open|Port Not Open/i.test(text);
  }

  override status(): ModbusRtuStatus {
    return { ...super.status(), crcErrors: this.crcErrors, timeouts: this.timeouts };
  }
}
