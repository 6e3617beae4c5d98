/**
 * Writes a firmware image into a PLC with Continuum's Modbus block transfer
 * (protocols/modbus/firmware-transfer.ts): header, blocks in sequence, commit coil, then the
 * PLC's status and running version read back. A block whose write failed (timeout, reconnect,
 * an exception for a block out of sequence) is resumed from the PLC's own "next block"
 * register, so a lost answer or a short cut of the line neither repeats nor skips a block.
 */
import {
  BLOCK_BYTES,
  BLOCK_OFFSET,
  MAX_BLOCKS,
  NEXT_BLOCK_OFFSET,
  STATUS,
  STATUS_OFFSET,
  STATUS_TEXT,
  TEXT_BYTES,
  VERSION_OFFSET,
  blockWords,
  headerWords,
  wordsToText,
} from '../../../protocols/modbus/firmware-transfer.js';
import type { FirmwareImage } from '../../ports.js';

/** The part of modbus-serial's client the transfer uses (kept here: base.ts imports this file). */
export interface FirmwareClient {
  writeRegisters(address: number, values: number[]): Promise<unknown>;
  writeCoil(address: number, state: boolean): Promise<unknown>;
  readHoldingRegisters(address: number, length: number): Promise<{ data: number[] }>;
}
type ModbusClient = FirmwareClient;

/** Runs one transaction on the connector's line (serialized with polls). */
export type RunRequest = <T>(fn: (client: ModbusClient) => Promise<T>) => Promise<T>;

/** Tries per block before the update fails (each after `pauseMs`, for a reconnect). */
const ATTEMPTS = 5;

export async function writeFirmwareBlocks(run: RunRequest, base: number, image: FirmwareImage, pause: () => Promise<void>): Promise<{ version: string }> {
  const { bytes } = image;
  const blocks = Math.ceil(bytes.length / BLOCK_BYTES);
  if (blocks === 0 || blocks > MAX_BLOCKS) throw new Error(`image of ${bytes.length} bytes does not fit the Modbus block transfer (1..${MAX_BLOCKS * BLOCK_BYTES})`);
  await retrying(() => run((c) => c.writeRegisters(base, headerWords(bytes.length, image.sha256, image.version))), pause);
  let seq = 0;
  while (seq < blocks) {
    const block = bytes.subarray(seq * BLOCK_BYTES, (seq + 1) * BLOCK_BYTES);
    const at = seq;
    let failures = 0;
    for (;;) {
      try {
        await run((c) => c.writeRegisters(base + BLOCK_OFFSET, blockWords(at, block)));
        seq++;
        break;
      } catch (err) {
        if (++failures >= ATTEMPTS) throw err;
        await pause();
        // Where the PLC is: the write may have landed and only its answer got lost.
        const next = await retrying(() => run((c) => c.readHoldingRegisters(base + NEXT_BLOCK_OFFSET, 1)), pause).then((r) => r.data[0] ?? 0);
        if (next !== (at & 0xffff)) {
          if (next === ((at + 1) & 0xffff)) seq++;
          else throw new Error(`PLC expects block ${next}, the edge was at ${at}`);
          break;
        }
      }
    }
  }
  await retrying(() => run((c) => c.writeCoil(base, true)), pause);
  const status = (await run((c) => c.readHoldingRegisters(base + STATUS_OFFSET, 1))).data[0] ?? 0;
  if (status !== STATUS.applied) throw new Error(`PLC did not apply the image: ${STATUS_TEXT[status] ?? `status ${status}`}`);
  const version = wordsToText((await run((c) => c.readHoldingRegisters(base + VERSION_OFFSET, TEXT_BYTES / 2))).data);
  return { version };
}

async function retrying<T>(fn: () => Promise<T>, pause: () => Promise<void>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= ATTEMPTS) throw err;
      await pause();
    }
  }
}
