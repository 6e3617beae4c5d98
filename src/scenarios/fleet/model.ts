/**
 * A delivery van driving a loop of waypoints: it accelerates to the road speed, stops at the
 * depot and at scheduled customer stops, burns fuel while the engine runs. van-1 also makes one
 * stop outside every allowed place — what the unauthorized-stop rule must catch.
 */
import type { JsonValue } from '../../domain/telemetry.js';
import { CommandRejected, defineModel } from '../../simulator/model.js';
import { clamp, gaussian, round } from '../physics.js';
import { distanceMetres } from '../../domain/expression/geo.js';

/** A loop through the streets of a town (lat, lon), starting and ending at the depot. */
export const ROUTE: readonly (readonly [number, number])[] = [
  [52.5200, 13.4050], [52.5235, 13.4130], [52.5290, 13.4185], [52.5340, 13.4120], [52.5362, 13.4010],
  [52.5330, 13.3905], [52.5270, 13.3860], [52.5215, 13.3925], [52.5200, 13.4050],
];

/** Waypoint indices where a van stops, and for how long (simulated seconds). */
const CUSTOMER_STOPS = new Map<number, number>([[3, 240], [6, 180]]);
/** van-1's unplanned stop: between waypoints 1 and 2, after this many metres on the route. */
const ROGUE_STOP_AT_M = 450;
const ROGUE_STOP_S = 600;

interface Van {
  leg: number;
  metresOnLeg: number;
  speedKmh: number;
  stoppedForS: number;
  fuel: number;
  ignition: boolean;
  odometerKm: number;
  rogueStopDone: boolean;
}

function legLength(leg: number): number {
  const a = ROUTE[leg % (ROUTE.length - 1)] as readonly [number, number];
  const b = ROUTE[(leg % (ROUTE.length - 1)) + 1] as readonly [number, number];
  return distanceMetres(a[0], a[1], b[0], b[1]);
}

function position(v: Van): [number, number] {
  const i = v.leg % (ROUTE.length - 1);
  const a = ROUTE[i] as readonly [number, number];
  const b = ROUTE[i + 1] as readonly [number, number];
  const f = clamp(v.metresOnLeg / legLength(v.leg), 0, 1);
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f];
}

function advance(v: Van, seconds: number, random: () => number): void {
  if (v.stoppedForS > 0) {
    v.stoppedForS = Math.max(0, v.stoppedForS - seconds);
    v.speedKmh = 0;
    return;
  }
  if (!v.ignition) return;
  v.speedKmh = clamp(v.speedKmh + 8 * seconds, 0, 45 + gaussian(random) * 2);
  let metres = (v.speedKmh / 3.6) * seconds;
  v.odometerKm += metres / 1000;
  v.fuel = clamp(v.fuel - (metres / 1000) * 0.12, 0, 100);
  if (!v.rogueStopDone && v.leg === 1 && v.metresOnLeg + metres >= ROGUE_STOP_AT_M) {
    v.metresOnLeg = ROGUE_STOP_AT_M;
    v.rogueStopDone = true;
    v.stoppedForS = ROGUE_STOP_S;
    v.speedKmh = 0;
    return;
  }
  while (metres > 0) {
    const rest = legLength(v.leg) - v.metresOnLeg;
    if (metres < rest) {
      v.metresOnLeg += metres;
      return;
    }
    metres -= rest;
    v.leg += 1;
    v.metresOnLeg = 0;
    const stop = CUSTOMER_STOPS.get(v.leg % (ROUTE.length - 1)) ?? (v.leg % (ROUTE.length - 1) === 0 ? 300 : 0);
    if (stop > 0) {
      v.stoppedForS = stop;
      v.speedKmh = 0;
      return;
    }
  }
}

export const van = defineModel<Van>({
  init(ctx) {
    const v: Van = {
      leg: ctx.index === 0 ? 0 : ctx.index * 2,
      metresOnLeg: ctx.index === 0 ? 100 : ctx.random() * 300,
      speedKmh: 30,
      stoppedForS: 0,
      fuel: ctx.index === 2 ? 16 : 55 + ctx.random() * 40,
      ignition: true,
      odometerKm: 40_000 + ctx.random() * 60_000,
      // Only van-1 makes the unplanned stop.
      rogueStopDone: ctx.index !== 0,
    };
    return v;
  },
  step(v, { dtSimMs }, ctx) {
    advance(v, dtSimMs / 1000, ctx.random);
    const [latitude, longitude] = position(v);
    return {
      latitude: round(latitude, 6),
      longitude: round(longitude, 6),
      speed: round(v.speedKmh),
      fuel: round(v.fuel),
      ignition: v.ignition,
      odometer: round(v.odometerKm, 2),
    };
  },
  command(v, method): JsonValue {
    if (method === 'immobilize') {
      v.ignition = false;
      v.speedKmh = 0;
      return { ignition: false };
    }
    if (method === 'release') {
      v.ignition = true;
      return { ignition: true };
    }
    if (method === 'refuel') {
      v.fuel = 100;
      return { fuel: 100 };
    }
    throw new CommandRejected(`unknown method ${method}`);
  },
  attributes: (_v, ctx) => ({ model: 'Cargo van', plate: `B-CT ${100 + ctx.index}` }),
});
