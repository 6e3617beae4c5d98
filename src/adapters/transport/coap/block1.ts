/**
 * Block-wise request bodies (RFC 7959 Block1), reassembled by the transport itself.
 *
 * The npm `coap` server (which we used to run) reassembles Block1 by token. RFC 7959 lets a client use a new token
 * for every block, and libcoap does exactly that, so the package's reassembly fails (5.00).
 * We key a transfer by what stays the same across its blocks: the client endpoint, the method,
 * the URI (path and query) and the Request-Tag option (RFC 9175) when the client sends one.
 *
 * Memory is bounded: a transfer may not exceed `maxBytes` (4.13); at most `maxTransfers`
 * transfers and `maxTotalBytes` bytes are held, and at most `maxPerEndpoint` transfers of one
 * client endpoint, so one client cannot push out everyone else's (the least recently used
 * transfer — of that endpoint, for its own cap — is dropped, and its next block gets 4.08); a
 * transfer idle for `ttlMs` is forgotten.
 */

export interface BlockOption {
  readonly num: number;
  readonly more: boolean;
  /** Size exponent: block size = 2^(szx + 4); 7 is reserved. */
  readonly szx: number;
}

/** Decodes a Block1/Block2 option value (0–3 bytes). Undefined when it is not valid. */
export function parseBlockOption(value: Buffer): BlockOption | undefined {
  if (value.length > 3) return undefined;
  let n = 0;
  for (const byte of value) n = n * 256 + byte;
  const szx = n & 0x7;
  if (szx === 7) return undefined;
  return { num: n >>> 4, more: (n & 0x8) !== 0, szx };
}

export function encodeBlockOption(block: BlockOption): Buffer {
  const n = block.num * 16 + (block.more ? 8 : 0) + block.szx;
  if (n <= 0xff) return Buffer.of(n);
  if (n <= 0xffff) return Buffer.of(n >> 8, n & 0xff);
  return Buffer.of((n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

export function blockSize(block: BlockOption): number {
  return 2 ** (block.szx + 4);
}

export type Block1Result =
  /** More blocks to come: answer 2.31 Continue echoing the Block1 option. */
  | { readonly kind: 'continue' }
  /** The last block arrived: here is the whole body. */
  | { readonly kind: 'complete'; readonly payload: Buffer }
  /** A block whose predecessors we do not have (4.08 Request Entity Incomplete). */
  | { readonly kind: 'incomplete' }
  /** Over the limit (4.13), announced by Size1 or reached while assembling. */
  | { readonly kind: 'too-large' };

interface Transfer {
  readonly endpoint: string;
  chunks: Buffer[];
  length: number;
  touched: number;
}

export interface Block1AssemblerOptions {
  readonly maxBytes: number;
  readonly maxTransfers?: number;
  readonly maxPerEndpoint?: number;
  readonly maxTotalBytes?: number;
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export class Block1Assembler {
  private readonly transfers = new Map<string, Transfer>();
  private readonly maxBytes: number;
  private readonly maxTransfers: number;
  private readonly maxPerEndpoint: number;
  private readonly perEndpoint = new Map<string, number>();
  private readonly maxTotalBytes: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private totalBytes = 0;

  constructor(options: Block1AssemblerOptions) {
    this.maxBytes = options.maxBytes;
    this.maxTransfers = options.maxTransfers ?? 256;
    this.maxPerEndpoint = options.maxPerEndpoint ?? 4;
    this.maxTotalBytes = options.maxTotalBytes ?? 16 * 1024 * 1024;
    this.ttlMs = options.ttlMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.transfers.size;
  }

  /**
   * Adds one block. `size1` is the total size the client announced (Size1 option), if any.
   * Blocks must arrive in order; a repeated block (a retransmission that carried a new
   * message id) is accepted again without duplicating data. `endpoint` is the client's address
   * and port (part of `key`), for the per-endpoint cap.
   */
  accept(key: string, block: BlockOption, payload: Buffer, size1?: number, endpoint = key): Block1Result {
    const now = this.now();
    this.sweep(now);
    const existing = this.take(key);
    if (size1 !== undefined && size1 > this.maxBytes) return { kind: 'too-large' };
    const offset = block.num * blockSize(block);
    let transfer: Transfer;
    if (block.num === 0) {
      transfer = { endpoint, chunks: [], length: 0, touched: now };
    } else if (!existing || offset > existing.length) {
      return { kind: 'incomplete' };
    } else {
      transfer = existing;
      if (offset < transfer.length) {
        // A block again (or a smaller block size after renegotiation): drop what follows it.
        transfer.chunks = [Buffer.concat(transfer.chunks).subarray(0, offset)];
        transfer.length = offset;
      }
    }
    if (transfer.length + payload.length > this.maxBytes) return { kind: 'too-large' };
    transfer.chunks.push(payload);
    transfer.length += payload.length;
    transfer.touched = now;
    if (!block.more) return { kind: 'complete', payload: Buffer.concat(transfer.chunks, transfer.length) };
    this.put(key, transfer);
    return { kind: 'continue' };
  }

  /** Removes and returns a transfer (the caller puts it back if it goes on). */
  private take(key: string): Transfer | undefined {
    const transfer = this.transfers.get(key);
    if (transfer) {
      this.transfers.delete(key);
      this.totalBytes -= transfer.length;
      const left = (this.perEndpoint.get(transfer.endpoint) ?? 1) - 1;
      if (left > 0) this.perEndpoint.set(transfer.endpoint, left);
      else this.perEndpoint.delete(transfer.endpoint);
    }
    return transfer;
  }

  /** Inserts as most recently used, then evicts the least recently used over the bounds. */
  private put(key: string, transfer: Transfer): void {
    this.transfers.set(key, transfer);
    this.totalBytes += transfer.length;
    const count = (this.perEndpoint.get(transfer.endpoint) ?? 0) + 1;
    this.perEndpoint.set(transfer.endpoint, count);
    if (count > this.maxPerEndpoint) this.dropOldestOf(transfer.endpoint);
    while (this.transfers.size > this.maxTransfers || (this.totalBytes > this.maxTotalBytes && this.transfers.size > 1)) {
      const oldest = this.transfers.keys().next();
      if (oldest.done) break;
      this.take(oldest.value);
    }
  }

  /** The endpoint's least recently used transfer (never the one just added: it is the newest). */
  private dropOldestOf(endpoint: string): void {
    for (const [key, transfer] of this.transfers) {
      if (transfer.endpoint === endpoint) {
        this.take(key);
        return;
      }
    }
  }

  clear(): void {
    this.transfers.clear();
    this.perEndpoint.clear();
    this.totalBytes = 0;
  }

  private sweep(now: number): void {
    for (const [key, transfer] of this.transfers) {
      if (now - transfer.touched < this.ttlMs) break;
      this.take(key);
    }
  }
}
