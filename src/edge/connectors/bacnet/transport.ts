/**
 * The UDP side of BACnet/IP (ASHRAE 135 Annex J) for @bacnet-js/client, which takes a transport
 * object. Ours binds the port asked for, 0 included (the library's own maps 0 to 47808), tells
 * when it listens and on which port, and names every peer "ip:port", so devices on
 * non-standard ports (several simulated devices on one host) are addressed as they answered.
 */
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import bacnetPackage from '@bacnet-js/client';

/** BACnet/IP's well-known UDP port, 0xBAC0 (Annex J.1.1). */
export const BACNET_PORT = 47808;
/** Largest BVLL frame on Ethernet: 1476-octet APDU plus NPDU and BVLC headers (Annex J.2, clause 6.2). */
const MAX_PAYLOAD = 1482;

// @bacnet-js/client is CommonJS with `exports.default = BACnetClient`; under Node's ESM interop
// (and NodeNext typing) a default import is the exports object, so the class is its `default`.
export const BACnetClient = bacnetPackage.default;
export type BACnetClientInstance = InstanceType<typeof BACnetClient>;

export function splitAddress(address: string): { host: string; port: number } {
  const [host = '', port] = address.split(':');
  return { host, port: port ? Number(port) : BACNET_PORT };
}

export class UdpTransport extends EventEmitter {
  private readonly socket: Socket;
  private boundPort = 0;
  /** Our own broadcasts come back to us; they are recognised by content for a short while and dropped. */
  private readonly ownBroadcasts = new Set<string>();

  constructor(private readonly settings: { port: number; interface: string; broadcastAddress: string }) {
    super();
    this.socket = createSocket({ type: 'udp4', reuseAddr: true });
    this.socket.on('message', (msg, rinfo) => {
      if (rinfo.port === this.boundPort && this.ownBroadcasts.has(msg.toString('hex'))) return;
      this.emit('message', msg, `${rinfo.address}:${rinfo.port}`);
    });
    this.socket.on('listening', () => {
      this.boundPort = this.socket.address().port;
      this.emit('listening', this.socket.address());
    });
    this.socket.on('error', (err) => this.emit('error', err));
    this.socket.on('close', () => this.emit('close'));
  }

  /** The bound port (0 until listening). */
  get port(): number {
    return this.boundPort;
  }

  getBroadcastAddress(): string {
    return this.settings.broadcastAddress;
  }

  getMaxPayload(): number {
    return MAX_PAYLOAD;
  }

  send(buffer: Buffer, offset: number, receiver?: string): void {
    const target = receiver ?? this.settings.broadcastAddress;
    const { host, port } = splitAddress(target);
    const data = Buffer.from(buffer.subarray(0, offset));
    if (receiver === undefined) {
      const key = data.toString('hex');
      this.ownBroadcasts.add(key);
      setTimeout(() => this.ownBroadcasts.delete(key), 5000).unref();
    }
    this.socket.send(data, port, host, (err) => {
      if (err) this.emit('error', err);
    });
  }

  open(): void {
    this.socket.bind(this.settings.port, this.settings.interface, () => this.socket.setBroadcast(true));
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

/** A client on our transport; resolves once the socket listens, with the port it got. */
export async function openClient(settings: { port: number; interface: string; broadcastAddress: string; apduTimeoutMs: number }): Promise<{ client: BACnetClientInstance; transport: UdpTransport }> {
  const transport = new UdpTransport(settings);
  const listening = new Promise<void>((resolve, reject) => {
    transport.once('listening', () => resolve());
    transport.once('error', reject);
  });
  const client = new BACnetClient({ transport, apduTimeout: settings.apduTimeoutMs });
  try {
    await listening;
  } catch (err) {
    client.close();
    throw err;
  }
  return { client, transport };
}
