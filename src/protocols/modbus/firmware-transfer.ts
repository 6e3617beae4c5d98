/**
 * Continuum's Modbus firmware block transfer: how the edge writes an image into a PLC with plain
 * holding-register and coil writes (function codes 16, 5 and 3), since Modbus has no file
 * transfer of its own that small PLCs implement. Both sides use this file: the edge's Modbus
 * connector (writer) and the simulated PLC (receiver). Documented in docs/EDGE.md "Firmware
 * through the edge"; addresses are offsets from a configurable base (default 60000).
 *
 *   base+0..1     image size in bytes (uint32, most significant word first)   ┐ one FC16 write of
 *   base+2..17    SHA-256 of the image (32 bytes)                             │ HEADER_WORDS starts
 *   base+18..33   the image's version, text, NUL-padded (32 bytes)            ┘ a transfer
 *   base+40       block sequence number (0, 1, …)                             ┐ one FC16 write per
 *   base+41       bytes in this block (1..BLOCK_BYTES)                        │ block; a block out of
 *   base+42..161  the block's bytes, 2 per register, high byte first          ┘ sequence: exception 3
 *   coil base     write ON: check size and SHA-256, then switch to the image
 *   base+200      status (read): STATUS below
 *   base+201      next expected block (read): where a cut transfer resumes
 *   base+210..225 running version, text (read)
 *   base+226..241 SHA-256 of the running image (read)
 */
export const FIRMWARE_DEFAULT_BASE = 60000;
export const HEADER_WORDS = 34;
export const BLOCK_OFFSET = 40;
/** 120 data registers + sequence + length = 122 registers, within FC16's 123. */
export const BLOCK_BYTES = 240;
export const STATUS_OFFSET = 200;
export const NEXT_BLOCK_OFFSET = 201;
export const VERSION_OFFSET = 210;
export const RUNNING_HASH_OFFSET = 226;
export const TEXT_BYTES = 32;
/** Highest block number a uint16 sequence register holds: images up to 65536 × 240 bytes. */
export const MAX_BLOCKS = 0x10000;

export const STATUS = { idle: 0, receiving: 1, complete: 2, applied: 3, checksumMismatch: 4, sequenceError: 5 } as const;

export const STATUS_TEXT: Record<number, string> = {
  0: 'idle',
  1: 'receiving',
  2: 'complete, not applied',
  3: 'applied',
  4: 'checksum mismatch',
  5: 'out of sequence',
};

/** Bytes as registers, 2 per register, high byte first; an odd last byte is padded with 0. */
export function bytesToWords(bytes: Uint8Array): number[] {
  const words: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) words.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  return words;
}

export function wordsToBytes(words: readonly number[], length = words.length * 2): Buffer {
  const out = Buffer.alloc(words.length * 2);
  words.forEach((w, i) => out.writeUInt16BE(w & 0xffff, i * 2));
  return out.subarray(0, length);
}

/** Text in TEXT_BYTES bytes, NUL-padded (UTF-8, cut at the limit). */
export function textToWords(text: string): number[] {
  const bytes = Buffer.alloc(TEXT_BYTES);
  Buffer.from(text, 'utf8').copy(bytes, 0, 0, TEXT_BYTES);
  return bytesToWords(bytes);
}

export function wordsToText(words: readonly number[]): string {
  const bytes = wordsToBytes(words);
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString('utf8');
}

/** The header write: size, SHA-256 (hex), version. */
export function headerWords(size: number, sha256Hex: string, version: string): number[] {
  return [Math.floor(size / 0x10000) & 0xffff, size & 0xffff, ...bytesToWords(Buffer.from(sha256Hex, 'hex')), ...textToWords(version)];
}

/** One block write: sequence, length, bytes. */
export function blockWords(sequence: number, bytes: Uint8Array): number[] {
  return [sequence & 0xffff, bytes.length, ...bytesToWords(bytes)];
}
