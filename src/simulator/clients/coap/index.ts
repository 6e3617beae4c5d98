/**
 * One simulated CoAP device (RFC 7252, with the npm `coap` client): Confirmable POSTs of
 * telemetry and attributes (2.04 = stored), an observation of /rpc whose notifications are
 * commands (RFC 7641), answered by POST /rpc/{id}, and an observation of /attributes for shared
 * attribute updates. Devices share UDP sockets (Agents): the token in the path, not the source
 * port, identifies a device, and one socket per device would waste file descriptors.
 */
import { createSocket, type Socket } from 'node:dgram';
import { Agent, request, type IncomingMessage, type ObserveReadStream } from 'coap';
import { backoffMs, isObject, parseJson, type DeviceLink, type LinkContext } from '../types.js';

export interface CoapEndpoint {
  readonly host: string;
  readonly port: number;
}

const DEVICES_PER_AGENT = 200;

/** Hands out shared Agents, a new one per DEVICES_PER_AGENT devices (message ids are 16-bit per endpoint). */
export class AgentPool {
  private readonly agents: Agent[] = [];
  private readonly sockets: Socket[] = [];
  private count = 0;

  next(): Agent {
    if (this.count++ % DEVICES_PER_AGENT === 0) {
      // Our own socket: an Agent closes (and later reopens, on a new port) a socket it created
      // whenever no request is pending, and notifications of an observation go to the old port.
      const socket = createSocket('udp4');
      this.sockets.push(socket);
      this.agents.push(new Agent({ socket }));
    }
    return this.agents[this.agents.length - 1]!;
  }

  close(): void {
    for (const a of this.agents) a.close();
    for (const s of this.sockets) s.close();
    this.agents.length = 0;
    this.sockets.length = 0;
  }
}

function isSuccess(code: string): boolean {
  return code.startsWith('2.');
}

export class CoapLink implements DeviceLink {
  private readonly agent: Agent;
  private observations: ObserveReadStream[] = [];
  private stopped = false;
  private attempts = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  up = false;
  pending = 0;

  constructor(
    private readonly ctx: LinkContext,
    private readonly endpoint: CoapEndpoint,
    agents: AgentPool,
  ) {
    this.agent = agents.next();
  }

  private path(suffix: string): string {
    return `/api/v1/${encodeURIComponent(this.ctx.token)}/${suffix}`;
  }

  start(): void {
    this.observe('rpc', (res) => this.onRpc(res), () => this.online());
    this.observe('attributes', (res) => this.onShared(res));
  }

  private online(): void {
    if (this.up) return;
    this.up = true;
    this.attempts = 0;
    this.ctx.counters.connected++;
    this.ctx.handlers.connected();
  }

  private offline(): void {
    if (!this.up) return;
    this.up = false;
    this.ctx.counters.connected--;
  }

  /** Registers an observation; re-registers with backoff when it fails or ends. */
  private observe(resource: string, onData: (payload: Buffer) => void, onRegistered?: () => void): void {
    if (this.stopped) return;
    const req = request({ hostname: this.endpoint.host, port: this.endpoint.port, method: 'GET', pathname: this.path(resource), observe: true, agent: this.agent });
    const retry = (why: string): void => {
      if (this.stopped) return;
      if (resource === 'rpc') this.offline();
      this.ctx.log.warn({ device: this.ctx.name, resource, why }, 'CoAP observation lost');
      this.retryTimer = setTimeout(() => this.observe(resource, onData, onRegistered), backoffMs(this.attempts++));
    };
    req.on('response', (res: IncomingMessage) => {
      if (!isSuccess(res.code)) {
        this.ctx.counters.errors++;
        return retry(`answer ${res.code}`);
      }
      const stream = res as ObserveReadStream;
      this.observations.push(stream);
      onRegistered?.();
      stream.on('data', (chunk: Buffer) => {
        if (chunk.length > 0) onData(chunk);
      });
      stream.on('end', () => retry('observation ended'));
      stream.on('error', () => retry('observation error'));
    });
    req.on('error', (err: Error) => retry(err.message));
    req.on('timeout', () => retry('timeout'));
    req.end();
  }

  private onRpc(payload: Buffer): void {
    const body = parseJson(payload.toString('utf8'));
    if (!isObject(body) || typeof body.method !== 'string' || (typeof body.id !== 'number' && typeof body.id !== 'string')) {
      return this.ctx.log.warn({ device: this.ctx.name }, 'RPC notification without id or method');
    }
    this.ctx.counters.commands++;
    const result = this.ctx.handlers.command(body.method, body.params ?? null);
    this.post(`rpc/${body.id}`, JSON.stringify(result), () => undefined);
  }

  private onShared(payload: Buffer): void {
    const body = parseJson(payload.toString('utf8'));
    if (isObject(body)) this.ctx.handlers.shared(isObject(body.shared) ? body.shared : body);
  }

  private post(resource: string, json: string, done: (ok: boolean) => void): void {
    const req = request({ hostname: this.endpoint.host, port: this.endpoint.port, method: 'POST', pathname: this.path(resource), confirmable: true, agent: this.agent, contentFormat: 'application/json' });
    let finished = false;
    const finish = (ok: boolean, why?: string): void => {
      if (finished) return;
      finished = true;
      if (!ok) this.ctx.log.warn({ device: this.ctx.name, resource, why }, 'CoAP request failed');
      done(ok);
    };
    req.on('response', (res: IncomingMessage) => {
      finish(isSuccess(res.code), `answer ${res.code}`);
      res.resume();
    });
    req.on('error', (err: Error) => finish(false, err.message));
    req.on('timeout', () => finish(false, 'timeout'));
    req.end(json);
  }

  telemetry(json: string): void {
    if (this.stopped) return;
    this.ctx.counters.sent++;
    this.pending++;
    this.post('telemetry', json, (ok) => {
      this.pending--;
      if (ok) {
        this.ctx.counters.acked++;
        this.ctx.counters.firstAcked ??= this.ctx.name;
      } else this.ctx.counters.errors++;
    });
  }

  attributes(json: string): void {
    this.post('attributes', json, (ok) => {
      if (!ok) this.ctx.counters.errors++;
    });
  }

  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.offline();
    for (const o of this.observations) o.close();
    this.observations = [];
    return Promise.resolve();
  }
}
