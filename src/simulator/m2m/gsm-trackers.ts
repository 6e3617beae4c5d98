/**
 * Fleet M2M twin: GSM trackers in delivery vans texting `POS lat,lon speed` (degrees, km/h) to
 * the control room's number every interval, and obeying two texted commands from it:
 * `SPEED LIMIT n` (the van's governor caps its speed at n km/h from then on) and `IMMOBILIZE`
 * (the engine is cut once the van stands: speed 0). Each answers `OK <command>`. Van 1 takes the
 * ring road at 95 km/h, the others stay in town, so an overspeed rule fires seconds in.
 */
import type { SmscSimulator, Subscriber } from '../sms/smsc.js';

export interface TrackerFleetOptions {
  /** The control room's number (the edge modem's SIM). */
  readonly to: string;
  /** Trackers' SIM numbers; van n is the n-th. */
  readonly trackers: readonly string[];
  readonly intervalMs?: number;
}

export interface TrackedVan {
  readonly subscriber: Subscriber;
  /** The governor's limit, km/h, once texted. */
  readonly speedLimit: number | undefined;
  readonly immobilized: boolean;
  /** Commands obeyed, in order. */
  readonly commands: readonly string[];
}

export interface TrackerFleet {
  readonly vans: readonly TrackedVan[];
  close(): void;
}

/** Berlin, around the depot of the fleet pack (src/scenarios/fleet). */
const DEPOT = { lat: 52.52, lon: 13.405 };

interface Van {
  readonly subscriber: Subscriber;
  speedLimit: number | undefined;
  immobilized: boolean;
  readonly commands: string[];
  step: number;
  lon: number;
}

/** The van's cruising speed without a limit: van 1 on the ring road, the others in town. */
const cruise = (index: number, step: number): number => (index === 0 ? 95 : 38 + ((step * 7 + index * 5) % 12));

export function startTrackers(smsc: SmscSimulator, options: TrackerFleetOptions): TrackerFleet {
  const intervalMs = options.intervalMs ?? 2000;
  const vans: Van[] = options.trackers.map((number) => {
    const van: Van = {
      speedLimit: undefined,
      immobilized: false,
      commands: [],
      step: 0,
      lon: DEPOT.lon,
      subscriber: smsc.handset(number, (text, from, self) => {
        if (from !== options.to) return; // only the control room commands a tracker
        const limit = /^\s*SPEED\s+LIMIT\s+(\d{1,3})\s*$/i.exec(text);
        if (limit) van.speedLimit = Number(limit[1]);
        else if (/^\s*IMMOBILI[SZ]E\s*$/i.test(text)) van.immobilized = true;
        else return;
        van.commands.push(text.trim().toUpperCase());
        self.send(from, `OK ${text.trim().toUpperCase()}`);
      }),
    };
    return van;
  });
  const report = (): void => {
    vans.forEach((van, i) => {
      const wanted = van.immobilized ? 0 : cruise(i, van.step);
      const speed = Math.min(wanted, van.speedLimit ?? Infinity);
      // Eastwards from the depot, each van on its own parallel, the distance of speed × interval.
      van.step++;
      const lat = DEPOT.lat + i * 0.004;
      const km = (speed * intervalMs) / 3_600_000;
      van.lon += km / (111.32 * Math.cos((lat * Math.PI) / 180));
      van.subscriber.send(options.to, `POS ${lat.toFixed(5)},${van.lon.toFixed(5)} ${Math.round(speed)}`);
    });
  };
  report();
  const timer = setInterval(report, intervalMs);
  timer.unref();
  return {
    vans: vans.map((v) => ({
      subscriber: v.subscriber,
      get speedLimit() {
        return v.speedLimit;
      },
      get immobilized() {
        return v.immobilized;
      },
      commands: v.commands,
    })),
    close() {
      clearInterval(timer);
      for (const v of vans) v.subscriber.close();
    },
  };
}
