/**
 * One simulated HTTP device: POSTs telemetry and attributes (200 = stored), and two long polls
 * kept open in turn, GET /rpc?timeout= for commands (answered by POST /rpc/{id}) and
 * GET /attributes/updates?timeout= for shared attributes; 408 just means "nothing came".
 */
import { backoffMs, isObject, parseJson, type DeviceLink, type LinkContext } from '../types.js';

const POLL_TIMEOUT_MS = 25_000;

export class HttpLink implements DeviceLink {
  private readonly abort = new AbortController();
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  up = false;
  pending = 0;

  constructor(
    private readonly ctx: LinkContext,
    private readonly baseUrl: string,
  ) {}

  private url(suffix: string): string {
    return `${this.baseUrl}/api/v1/${encodeURIComponent(this.ctx.token)}/${suffix}`;
  }

  start(): void {
    this.loops.push(this.pollLoop('rpc', (body) => this.onRpc(body)));
    this.loops.push(this.pollLoop('attributes/updates', (body) => isObject(body) && this.ctx.handlers.shared(body)));
    void this.readShared();
  }

  private setUp(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    this.ctx.counters.connected += up ? 1 : -1;
    if (up) this.ctx.handlers.connected();
  }

  private async readShared(): Promise<void> {
    try {
      const res = await fetch(this.url('attributes'), { signal: this.abort.signal });
      const body = parseJson(await res.text());
      if (res.ok) {
        this.setUp(true);
        if (isObject(body) && isObject(body.shared)) this.ctx.handlers.shared(body.shared);
      } else this.ctx.log.warn({ device: this.ctx.name, status: res.status }, 'attribute read refused');
    } catch (err) {
      if (!this.stopped) this.ctx.log.warn({ device: this.ctx.name, err: (err as Error).message }, 'attribute read failed');
    }
  }

  private async pollLoop(resource: string, onBody: (body: ReturnType<typeof parseJson>) => void): Promise<void> {
    let attempts = 0;
    while (!this.stopped) {
      try {
        const res = await fetch(this.url(`${resource}?timeout=${POLL_TIMEOUT_MS}`), { signal: this.abort.signal });
        const text = await res.text();
        if (res.status === 200) onBody(parseJson(text));
        else if (res.status !== 408) throw new Error(`HTTP ${res.status} ${text.slice(0, 120)}`);
        attempts = 0;
        this.setUp(true);
      } catch (err) {
        if (this.stopped) return;
        this.setUp(false);
        this.ctx.counters.errors++;
        this.ctx.log.warn({ device: this.ctx.name, resource, err: (err as Error).message }, 'long poll failed');
        await new Promise((r) => setTimeout(r, backoffMs(attempts++)));
      }
    }
  }

  private onRpc(body: ReturnType<typeof parseJson>): void {
    if (!isObject(body) || typeof body.method !== 'string' || (typeof body.id !== 'number' && typeof body.id !== 'string')) {
      return this.ctx.log.warn({ device: this.ctx.name }, 'RPC request without id or method');
    }
    this.ctx.counters.commands++;
    const result = this.ctx.handlers.command(body.method, body.params ?? null);
    void this.post(`rpc/${body.id}`, JSON.stringify(result));
  }

  private async post(resource: string, json: string): Promise<boolean> {
    try {
      const res = await fetch(this.url(resource), { method: 'POST', headers: { 'content-type': 'application/json' }, body: json, signal: this.abort.signal });
      const text = await res.text();
      if (res.ok) return true;
      this.ctx.log.warn({ device: this.ctx.name, resource, status: res.status, body: text.slice(0, 200) }, 'HTTP request refused');
    } catch (err) {
      if (!this.stopped) this.ctx.log.warn({ device: this.ctx.name, resource, err: (err as Error).message }, 'HTTP request failed');
    }
    return false;
  }

  telemetry(json: string): void {
    if (this.stopped) return;
    this.ctx.counters.sent++;
    this.pending++;
    void this.post('telemetry', json).then((ok) => {
      this.pending--;
      if (ok) {
        this.ctx.counters.acked++;
        this.ctx.counters.firstAcked ??= this.ctx.name;
      } else if (!this.stopped) this.ctx.counters.errors++;
    });
  }

  attributes(json: string): void {
    void this.post('attributes', json).then((ok) => {
      if (!ok && !this.stopped) this.ctx.counters.errors++;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await Promise.allSettled(this.loops);
    this.setUp(false);
  }
}
