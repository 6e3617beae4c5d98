/**
 * One WebSocket to /api/ws for the whole app: subscriptions survive reconnects (they are sent
 * again), each with its own handler. A 4401 close means the token is no longer accepted.
 * The token goes in the first message, never in the URL (URLs end up in logs and proxies) nor in
 * a header: the server handles messages in order, so subscriptions sent right after it are
 * already authenticated.
 */
import { currentSession, signOut } from './api.js';

export type LiveType = 'telemetry' | 'alarms' | 'status' | 'commands';
export interface LiveMessage {
  type: LiveType;
  subscriptionId: string;
  deviceId: string;
  data: unknown;
  ts: number;
}
interface Sub {
  readonly filter: { type: LiveType; deviceId?: string };
  readonly handler: (m: LiveMessage) => void;
  readonly onReady: (() => void) | undefined;
  serverId?: string;
}

type StateListener = (state: 'connecting' | 'live' | 'offline') => void;

export class LiveClient {
  private ws: WebSocket | undefined;
  private readonly subs = new Map<number, Sub>();
  private readonly byServerId = new Map<string, number>();
  private readonly pending = new Map<number, number>();
  private nextRequest = 1;
  private nextSub = 1;
  private retryMs = 500;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  private readonly stateListeners = new Set<StateListener>();

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.ws?.close(1000, 'bye');
    this.ws = undefined;
    this.subs.clear();
    this.byServerId.clear();
    this.pending.clear();
  }

  /** A new token (password change): authenticate a fresh socket with it, keeping the subscriptions. */
  renew(): void {
    if (this.stopped) return;
    const old = this.ws;
    this.ws = undefined;
    this.byServerId.clear();
    this.pending.clear();
    for (const sub of this.subs.values()) delete sub.serverId;
    if (this.timer !== undefined) clearTimeout(this.timer);
    old?.close(1000, 'new token');
    this.open();
  }

  onState(listener: StateListener): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** `onReady` runs each time the server has confirmed the subscription (again after a reconnect). */
  subscribe(filter: Sub['filter'], handler: Sub['handler'], onReady?: () => void): () => void {
    const local = this.nextSub++;
    this.subs.set(local, { filter, handler, onReady });
    this.sendSubscribe(local);
    return () => {
      const sub = this.subs.get(local);
      this.subs.delete(local);
      if (sub?.serverId !== undefined) {
        this.byServerId.delete(sub.serverId);
        this.send({ id: this.nextRequest++, unsubscribe: sub.serverId });
      }
    };
  }

  private emit(state: Parameters<StateListener>[0]): void {
    for (const l of this.stateListeners) l(state);
  }

  private open(): void {
    const session = currentSession();
    if (!session || this.stopped) return;
    this.emit('connecting');
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/ws`);
    this.ws = ws;
    ws.addEventListener('open', () => {
      this.retryMs = 500;
      this.send({ id: this.nextRequest++, token: session.token });
      this.emit('live');
      for (const local of this.subs.keys()) this.sendSubscribe(local);
    });
    ws.addEventListener('message', (event) => this.receive(String(event.data)));
    ws.addEventListener('close', (event) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.byServerId.clear();
      this.pending.clear();
      for (const sub of this.subs.values()) delete sub.serverId;
      if (this.stopped) return;
      if (event.code === 4401) {
        signOut('expired');
        return;
      }
      this.emit('offline');
      this.timer = setTimeout(() => this.open(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 15_000);
    });
  }

  private sendSubscribe(local: number): void {
    const sub = this.subs.get(local);
    if (!sub || this.ws?.readyState !== WebSocket.OPEN) return;
    const id = this.nextRequest++;
    this.pending.set(id, local);
    this.send({ id, subscribe: sub.filter });
  }

  private send(message: object): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  private receive(text: string): void {
    let m: { id?: number; result?: { subscriptionId?: string }; error?: unknown; type?: LiveType; subscriptionId?: string };
    try {
      m = JSON.parse(text) as typeof m;
    } catch {
      return;
    }
    if (typeof m.id === 'number' && this.pending.has(m.id)) {
      const local = this.pending.get(m.id) as number;
      this.pending.delete(m.id);
      const sub = this.subs.get(local);
      const serverId = m.result?.subscriptionId;
      if (serverId === undefined) return;
      if (!sub) {
        // Unsubscribed while the subscription was on its way.
        this.send({ id: this.nextRequest++, unsubscribe: serverId });
        return;
      }
      sub.serverId = serverId;
      this.byServerId.set(serverId, local);
      sub.onReady?.();
      return;
    }
    if (m.type && m.subscriptionId !== undefined) {
      const local = this.byServerId.get(m.subscriptionId);
      const sub = local === undefined ? undefined : this.subs.get(local);
      sub?.handler(m as LiveMessage);
    }
  }
}

export const live = new LiveClient();

/** Marks `el` with data-live="ready" once all `count` subscriptions are confirmed (tests wait on it). */
export function readiness(el: HTMLElement, count: number): () => void {
  let confirmed = 0;
  return () => {
    confirmed += 1;
    if (confirmed >= count) el.dataset.live = 'ready';
  };
}
