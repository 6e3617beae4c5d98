/**
 * `continuum edge scan modbus`: finds which addresses of which units answer, table by table,
 * and prints them as a modbus-tcp connector to paste into an edge config.
 *
 * A block read over addresses the slave does not have fails as a whole with exception 2,
 * ILLEGAL DATA ADDRESS (Modbus Application Protocol V1.1b3, 7): the block is then halved until
 * the answering addresses are isolated, so a sparse map costs a few requests per gap rather
 * than one per address.
 */
import modbusSerial from 'modbus-serial';
import type { ModbusRTU as Client } from 'modbus-serial/ModbusRTU.js';
import { errorText, isTimeout, modbusCode } from '../connectors/modbus/base.js';

const ModbusRTU = modbusSerial as unknown as new () => Client;

export const TABLES = {
  hr: { fc: 3, limit: 125, label: 'holding registers' },
  ir: { fc: 4, limit: 125, label: 'input registers' },
  coil: { fc: 1, limit: 2000, label: 'coils' },
  di: { fc: 2, limit: 2000, label: 'discrete inputs' },
} as const;
export type TableName = keyof typeof TABLES;

export interface ModbusScanOptions {
  readonly host: string;
  readonly port: number;
  readonly units: readonly number[];
  readonly from: number;
  readonly to: number;
  readonly tables: readonly TableName[];
  readonly timeoutMs: number;
}

export interface FoundValue {
  readonly table: TableName;
  readonly address: number;
  readonly value: number | boolean;
}

export interface UnitResult {
  readonly unitId: number;
  readonly answered: boolean;
  readonly values: readonly FoundValue[];
  readonly note?: string;
}

async function read(client: Client, table: TableName, address: number, quantity: number): Promise<readonly (number | boolean)[]> {
  switch (table) {
    case 'hr':
      return (await client.readHoldingRegisters(address, quantity)).data;
    case 'ir':
      return (await client.readInputRegisters(address, quantity)).data;
    case 'coil':
      return (await client.readCoils(address, quantity)).data.slice(0, quantity);
    case 'di':
      return (await client.readDiscreteInputs(address, quantity)).data.slice(0, quantity);
  }
}

class UnitSilent extends Error {}

/** Reads [from, to] of one table, halving blocks that fail with an exception; returns what answered. */
async function scanRange(client: Client, table: TableName, from: number, to: number, out: FoundValue[]): Promise<boolean> {
  let anyAnswer = false;
  const visit = async (start: number, end: number): Promise<void> => {
    try {
      const data = await read(client, table, start, end - start + 1);
      data.forEach((value, i) => out.push({ table, address: start + i, value }));
      anyAnswer = true;
    } catch (err) {
      if (isTimeout(err)) throw new UnitSilent(errorText(err));
      if (modbusCode(err) === undefined) throw err;
      // An exception is an answer: the unit is there, this block is not (wholly) mapped.
      anyAnswer = true;
      if (start === end) return;
      const mid = Math.floor((start + end) / 2);
      await visit(start, mid);
      await visit(mid + 1, end);
    }
  };
  const limit = TABLES[table].limit;
  for (let start = from; start <= to; start += limit) await visit(start, Math.min(to, start + limit - 1));
  return anyAnswer;
}

export async function scanModbus(options: ModbusScanOptions, log: (line: string) => void): Promise<UnitResult[]> {
  const client = new ModbusRTU();
  await client.connectTCP(options.host, { port: options.port });
  client.setTimeout(options.timeoutMs);
  const results: UnitResult[] = [];
  try {
    for (const unitId of options.units) {
      client.setID(unitId);
      const values: FoundValue[] = [];
      let answered = false;
      let note: string | undefined;
      try {
        for (const table of options.tables) {
          log(`unit ${unitId}: ${TABLES[table].label} ${options.from}-${options.to}`);
          if (await scanRange(client, table, options.from, options.to, values)) answered = true;
        }
      } catch (err) {
        // A unit that does not answer at all is skipped whole; waiting out every table would only multiply the timeout.
        if (!(err instanceof UnitSilent)) throw err;
        note = `no answer (${err.message})`;
      }
      results.push({ unitId, answered: answered || values.length > 0, values, ...(note !== undefined ? { note } : {}) });
    }
  } finally {
    client.close(() => undefined);
  }
  return results;
}

/** The connector section for what answered, as YAML with each current value in a comment. */
export function modbusSnippet(options: ModbusScanOptions, results: readonly UnitResult[]): string {
  const lines = [
    `# continuum edge scan modbus: ${options.host}:${options.port}, addresses ${options.from}-${options.to}`,
    '# Paste under an edge config (docs/EDGE.md); rename keys, set types (int16, float32, …) and scale.',
    'connectors:',
    '  - type: modbus-tcp',
    `    name: modbus-${options.host.replace(/[^A-Za-z0-9]+/g, '-')}`,
    `    host: ${JSON.stringify(options.host)}`,
    `    port: ${options.port}`,
    '    devices:',
  ];
  for (const unit of results.filter((r) => r.values.length > 0)) {
    lines.push(`      - name: unit-${unit.unitId}`, `        unitId: ${unit.unitId}`, '        pollMs: 1000', '        registers:');
    for (const v of unit.values) {
      const fc = TABLES[v.table].fc;
      const type = fc <= 2 ? 'bool' : 'uint16';
      lines.push(`          - { key: ${v.table}${v.address}, fc: ${fc}, address: ${v.address}, type: ${type} }  # ${String(v.value)}`);
    }
  }
  for (const unit of results.filter((r) => r.values.length === 0)) lines.push(`# unit ${unit.unitId}: ${unit.note ?? (unit.answered ? 'answered, but nothing mapped in the range' : 'no answer')}`);
  return lines.join('\n') + '\n';
}
