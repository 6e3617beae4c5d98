/**
 * The simulated PLC's firmware-receive area (protocols/modbus/firmware-transfer.ts has the
 * layout): a header write starts a transfer, blocks must come in sequence (the last one may be
 * repeated: the edge retries a write whose answer it lost), the commit coil checks size and
 * SHA-256 of what was reassembled and only then switches the running version and image hash.
 * What a real PLC's boot loader would do, so the edge's writer is tested against behaviour.
 */
import { createHash } from 'node:crypto';
import {
  BLOCK_BYTES,
  BLOCK_OFFSET,
  HEADER_WORDS,
  MAX_BLOCKS,
  NEXT_BLOCK_OFFSET,
  RUNNING_HASH_OFFSET,
  STATUS,
  STATUS_OFFSET,
  TEXT_BYTES,
  VERSION_OFFSET,
  bytesToWords,
  textToWords,
  wordsToBytes,
  wordsToText,
} from '../../protocols/modbus/firmware-transfer.js';

/** A Modbus exception answer: modbus-serial's server sends `modbusErrorCode`. */
const illegal = (code: 2 | 3 | 4, msg: string): { modbusErrorCode: number; msg: string } => ({ modbusErrorCode: code, msg });

/** Largest image the simulator keeps in memory (it is a test peer; real PLCs have their own bound). */
const MAX_IMAGE_BYTES = 16 * 1024 * 1024;

export interface FirmwareAreaLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export class FirmwareArea {
  private status: number = STATUS.idle;
  private size = 0;
  private expected = '';
  private incomingVersion = '';
  private image: Buffer = Buffer.alloc(0);
  private received = 0;
  private next = 0;
  /** Blocks accepted, repeats included (what a test may count). */
  blocksAccepted = 0;
  version: string;
  runningSha256: string;

  constructor(
    readonly base: number,
    initialVersion: string,
    private readonly log: FirmwareAreaLog,
  ) {
    this.version = initialVersion;
    this.runningSha256 = createHash('sha256').update(initialVersion).digest('hex');
  }

  /** Whether a register write or read at `address` (length `n`) falls in the area. */
  covers(address: number, n = 1): boolean {
    return address >= this.base && address + n <= this.base + RUNNING_HASH_OFFSET + TEXT_BYTES / 2;
  }

  read(address: number): number {
    const at = address - this.base;
    if (at === STATUS_OFFSET) return this.status;
    if (at === NEXT_BLOCK_OFFSET) return this.next & 0xffff;
    if (at >= VERSION_OFFSET && at < VERSION_OFFSET + TEXT_BYTES / 2) return textToWords(this.version)[at - VERSION_OFFSET] ?? 0;
    if (at >= RUNNING_HASH_OFFSET && at < RUNNING_HASH_OFFSET + TEXT_BYTES / 2) return bytesToWords(Buffer.from(this.runningSha256, 'hex'))[at - RUNNING_HASH_OFFSET] ?? 0;
    return 0;
  }

  /** An FC16 write into the area: a header or a block; anything else is an illegal address. */
  write(address: number, words: readonly number[]): void {
    const at = address - this.base;
    if (at === 0 && words.length === HEADER_WORDS) return this.begin(words);
    if (at === BLOCK_OFFSET && words.length >= 3) return this.block(words);
    throw illegal(2, `firmware area: write ${words.length} registers at offset ${at} is neither a header nor a block`);
  }

  private begin(words: readonly number[]): void {
    const size = (words[0] ?? 0) * 0x10000 + (words[1] ?? 0);
    if (size === 0 || size > MAX_IMAGE_BYTES || Math.ceil(size / BLOCK_BYTES) > MAX_BLOCKS) throw illegal(3, `firmware area: image size ${size} refused`);
    this.size = size;
    this.expected = wordsToBytes(words.slice(2, 18)).toString('hex');
    this.incomingVersion = wordsToText(words.slice(18, 34));
    this.image = Buffer.alloc(size);
    this.received = 0;
    this.next = 0;
    this.status = STATUS.receiving;
    this.log.info({ size, version: this.incomingVersion }, 'firmware transfer started');
  }

  private block(words: readonly number[]): void {
    if (this.status !== STATUS.receiving && this.status !== STATUS.complete) throw illegal(4, 'firmware area: no transfer started');
    const seq = words[0] ?? 0;
    const length = words[1] ?? 0;
    const data = words.slice(2);
    if (length === 0 || length > BLOCK_BYTES || Math.ceil(length / 2) !== data.length) throw illegal(3, `firmware area: block length ${length} with ${data.length} registers`);
    // The block before the expected one again: its answer was lost and the writer retries. Accepted, no change.
    if (this.next > 0 && seq === ((this.next - 1) & 0xffff)) {
      this.blocksAccepted++;
      return;
    }
    if (seq !== (this.next & 0xffff)) throw illegal(3, `firmware area: block ${seq} out of sequence, expected ${this.next & 0xffff}`);
    const offset = this.next * BLOCK_BYTES;
    if (offset + length > this.size) throw illegal(3, `firmware area: block ${seq} ends past the image size ${this.size}`);
    wordsToBytes(data, length).copy(this.image, offset);
    this.received = offset + length;
    this.next++;
    this.blocksAccepted++;
    if (this.received >= this.size) this.status = STATUS.complete;
  }

  /** The commit coil: switch only to an image that is whole and has the announced SHA-256. */
  commit(): void {
    if (this.status !== STATUS.complete) {
      this.log.warn({ status: this.status, received: this.received, size: this.size }, 'firmware commit refused: image incomplete');
      throw illegal(4, 'firmware area: image incomplete');
    }
    const actual = createHash('sha256').update(this.image).digest('hex');
    if (actual !== this.expected) {
      this.status = STATUS.checksumMismatch;
      this.log.warn({ expected: this.expected, actual }, 'firmware commit refused: checksum mismatch');
      return;
    }
    this.version = this.incomingVersion;
    this.runningSha256 = actual;
    this.status = STATUS.applied;
    this.image = Buffer.alloc(0);
    this.log.info({ version: this.version, sha256: actual }, 'firmware applied');
  }
}
