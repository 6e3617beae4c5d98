/**
 * The M2M twins' SMS devices as subscribers of the simulated SMSC: smart-farm's GSM pump
 * controller (switched by `PUMP ON` / `PUMP OFF`, answers `PUMP IS ON|OFF`, `STATUS` asks) and
 * fleet's GSM tracker (texts `POS lat,lon speed` every interval while it drives a loop).
 */
import type { SmscSimulator, Subscriber } from './smsc.js';

export interface PumpController {
  readonly subscriber: Subscriber;
  readonly on: boolean;
  close(): void;
}

export function gsmPumpController(smsc: SmscSimulator, number: string): PumpController {
  let on = false;
  const subscriber = smsc.handset(number, (text, from, self) => {
    const m = /^\s*(PUMP\s+(ON|OFF)|STATUS)\s*$/i.exec(text);
    if (!m) {
      self.send(from, 'ERR UNKNOWN COMMAND');
      return;
    }
    if (m[2]) on = m[2].toUpperCase() === 'ON';
    self.send(from, `PUMP IS ${on ? 'ON' : 'OFF'}`);
  });
  return {
    subscriber,
    get on() {
      return on;
    },
    close: () => subscriber.close(),
  };
}

export interface TrackerOptions {
  /** Where the positions go (the edge's or platform's number). */
  readonly to: string;
  readonly intervalMs: number;
  /** Centre of the loop it drives (default: Hamburg harbour). */
  readonly lat?: number;
  readonly lon?: number;
}

export interface Tracker {
  readonly subscriber: Subscriber;
  /** Positions sent so far. */
  readonly sent: number;
  close(): void;
}

/** Position on a 2 km circle at step `n` (one lap per 60 steps), speed in km/h. */
export function trackerPosition(n: number, lat0: number, lon0: number): { lat: number; lon: number; speed: number } {
  const angle = (2 * Math.PI * (n % 60)) / 60;
  const r = 0.009; // ≈ 1 km in latitude degrees
  const lat = lat0 + r * Math.sin(angle);
  const lon = lon0 + (r * Math.cos(angle)) / Math.cos((lat0 * Math.PI) / 180);
  return { lat: Number(lat.toFixed(5)), lon: Number(lon.toFixed(5)), speed: 40 + Math.round(10 * Math.sin(angle * 3)) };
}

export function gsmTracker(smsc: SmscSimulator, number: string, options: TrackerOptions): Tracker {
  let n = 0;
  const subscriber = smsc.handset(number);
  const tick = (): void => {
    const p = trackerPosition(n++, options.lat ?? 53.5413, options.lon ?? 9.9666);
    subscriber.send(options.to, `POS ${p.lat},${p.lon} ${p.speed}`);
  };
  tick();
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  return {
    subscriber,
    get sent() {
      return n;
    },
    close() {
      clearInterval(timer);
      subscriber.close();
    },
  };
}
