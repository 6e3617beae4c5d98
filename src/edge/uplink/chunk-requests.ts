/**
 * Firmware chunk requests over the uplink's MQTT session, matched to their answers by request
 * id. For a child (the firmware relay) the gateway topics `v1/gateway/fw/request` →
 * `v1/gateway/fw/response/{id}/chunk/{n}` / `v1/gateway/fw/error`; for the gateway itself
 * ThingsBoard's device topics `v2/fw/request/{id}/chunk/{n}` → `v2/fw/response/{id}/chunk/{n}` /
 * `v2/fw/error` (docs/OTA.md). A request fails as `retryable` when the connection is down, breaks,
 * or no answer comes in time; a refusal from the platform is final.
 */
import type mqtt from 'mqtt';

export class ChunkRequestError extends Error {
  override name = 'ChunkRequestError';
  constructor(
    message: string,
    /** True for transport trouble (try again later); false for a refusal by the platform. */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export interface ChunkTarget {
  /** A child's name; undefined = the gateway's own package. */
  readonly device?: string;
  readonly title: string;
  readonly version: string;
}

/** Subscriptions for the answers, made at each connect before any request. */
export const CHUNK_FILTERS = ['v1/gateway/fw/response/+/chunk/+', 'v1/gateway/fw/error', 'v2/fw/response/+/chunk/+', 'v2/fw/error'];

const GW_RESPONSE = /^v1\/gateway\/fw\/response\/(\d+)\/chunk\/\d+$/;
const OWN_RESPONSE = /^v2\/fw\/response\/(\d+)\/chunk\/\d+$/;

interface Pending {
  readonly own: boolean;
  resolve(bytes: Buffer): void;
  reject(err: ChunkRequestError): void;
  readonly timer: NodeJS.Timeout;
}

export class ChunkRequests {
  private next = 0;
  private readonly pending = new Map<number, Pending>();

  request(client: mqtt.MqttClient | undefined, target: ChunkTarget, chunk: number, size: number, timeoutMs: number): Promise<Buffer> {
    if (!client) return Promise.reject(new ChunkRequestError('platform not connected', true));
    const id = (this.next = (this.next + 1) % 0xffffffff);
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id)?.reject(new ChunkRequestError(`no answer to chunk ${chunk} within ${timeoutMs} ms`, true)), timeoutMs);
      this.pending.set(id, { own: target.device === undefined, resolve, reject, timer });
      // QoS 0 both ways: a lost request or answer is a timeout and asked again; the connection's
      // loss fails every pending request at once (failAll).
      if (target.device === undefined) client.publish(`v2/fw/request/${id}/chunk/${chunk}`, String(size), { qos: 0 });
      else client.publish('v1/gateway/fw/request', JSON.stringify({ device: target.device, requestId: id, chunk, size, title: target.title, version: target.version }), { qos: 0 });
    });
  }

  /** True when the message was an answer to a chunk request. */
  onMessage(topic: string, payload: Buffer): boolean {
    const response = GW_RESPONSE.exec(topic) ?? OWN_RESPONSE.exec(topic);
    if (response) {
      this.settle(Number(response[1]))?.resolve(payload);
      return true;
    }
    if (topic === 'v1/gateway/fw/error') {
      let body: { requestId?: unknown; error?: unknown } = {};
      try {
        body = JSON.parse(payload.toString('utf8')) as typeof body;
      } catch {
        // unreadable: nothing to match; the request times out and is asked again
      }
      if (typeof body.requestId === 'number') this.settle(body.requestId)?.reject(new ChunkRequestError(String(body.error ?? 'refused').slice(0, 500), false));
      return true;
    }
    if (topic === 'v2/fw/error') {
      // ThingsBoard's device error topic names no request: it answers the gateway's own one(s).
      for (const [id, p] of this.pending) if (p.own) this.settle(id)?.reject(new ChunkRequestError(payload.toString('utf8').slice(0, 500), false));
      return true;
    }
    return false;
  }

  /** The connection went: every pending request is retryable. */
  failAll(reason: string): void {
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(new ChunkRequestError(reason, true));
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }
}
