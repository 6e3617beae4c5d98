/**
 * What every widget needs: the latest values of some keys of one device, then each new one live.
 * One GET for the start, one live subscription for the rest; values older than the one shown are
 * ignored (a live point may arrive before the GET answers).
 */
import { get, query, type TsValue } from '../api.js';
import { live } from '../live.js';

export interface WidgetHandle {
  readonly el: HTMLElement;
  dispose(): void;
}

export type ValueListener = (key: string, point: TsValue) => void;

/** `keys` empty = every key. Marks `el` data-live="ready" once the subscription is confirmed. */
export function latestFeed(el: HTMLElement, deviceId: string, keys: readonly string[], onValue: ValueListener, onError?: (err: unknown) => void): () => void {
  const newest = new Map<string, number>();
  const wanted = new Set(keys);
  const deliver = (key: string, point: TsValue): void => {
    if (wanted.size > 0 && !wanted.has(key)) return;
    if ((newest.get(key) ?? -Infinity) > point.ts) return;
    newest.set(key, point.ts);
    onValue(key, point);
  };
  const off = live.subscribe(
    { type: 'telemetry', deviceId },
    (m) => {
      for (const [key, points] of Object.entries(m.data as Record<string, TsValue[]>)) {
        const last = points.reduce<TsValue | undefined>((a, p) => (!a || p.ts >= a.ts ? p : a), undefined);
        if (last) deliver(key, last);
      }
    },
    () => (el.dataset.live = 'ready'),
  );
  get<Record<string, TsValue>>(`/api/devices/${encodeURIComponent(deviceId)}/telemetry/latest${query({ keys: keys.join(',') })}`)
    .then((values) => {
      for (const [key, point] of Object.entries(values)) deliver(key, point);
    })
    .catch((err: unknown) => onError?.(err));
  return off;
}

export function numeric(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
