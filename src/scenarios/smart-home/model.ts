/**
 * A smart home: motion sensors in rooms, switched lights, and a hub that holds the scene. The
 * hall sensor (motion-1) sees someone within seconds of the start, in a dark hall.
 */
import { CommandRejected, defineModel } from '../../simulator/model.js';
import { daylight, gaussian, MINUTE, round } from '../physics.js';

interface MotionSensor {
  /** Simulated time the current motion ends (motion while now < it). */
  motionUntil: number;
  nextMotionAt: number;
  /** 0 dark hall … 1 bright living room. */
  window: number;
}

export const motionSensor = defineModel<MotionSensor>({
  init(ctx, now) {
    return { motionUntil: 0, nextMotionAt: now + (ctx.index === 0 ? 20_000 : (2 + ctx.random() * 20) * MINUTE), window: ctx.index === 0 ? 0.002 : 0.05 + ctx.random() * 0.2 };
  },
  step(s, { simNow }, ctx) {
    if (simNow >= s.nextMotionAt) {
      s.motionUntil = simNow + (1 + ctx.random() * 3) * MINUTE;
      s.nextMotionAt = s.motionUntil + (5 + ctx.random() * 25) * MINUTE;
    }
    return {
      motion: simNow < s.motionUntil,
      lux: Math.max(0, Math.round(30_000 * daylight(simNow) * s.window + 5 + gaussian(ctx.random))),
      temperature: round(21 + gaussian(ctx.random) * 0.2),
    };
  },
});

interface Switch {
  on: boolean;
}

const onParam = (params: unknown): boolean => {
  const on = typeof params === 'object' && params !== null && !Array.isArray(params) ? (params as { on?: unknown }).on : params;
  if (typeof on !== 'boolean') throw new CommandRejected('setSwitch needs {"on": true|false}');
  return on;
};

export const smartSwitch = defineModel<Switch>({
  init: () => ({ on: false }),
  step: (s, _t, ctx) => ({ on: s.on, powerW: s.on ? round(9 + gaussian(ctx.random) * 0.2) : 0.3 }),
  command(s, method, params) {
    if (method !== 'setSwitch') throw new CommandRejected(`unknown method ${method}`);
    s.on = onParam(params);
    return { on: s.on };
  },
});

const SCENES = ['home', 'away', 'night'] as const;

interface Hub {
  scene: string;
}

export const hub = defineModel<Hub>({
  init: () => ({ scene: 'home' }),
  step: (s) => ({ scene: s.scene }),
  command(s, method, params) {
    const name = typeof params === 'object' && params !== null && !Array.isArray(params) ? params.name : params;
    if (method !== 'setScene' || typeof name !== 'string' || !(SCENES as readonly string[]).includes(name)) {
      throw new CommandRejected(`setScene needs {"name": ${SCENES.map((x) => `"${x}"`).join(' | ')}}`);
    }
    s.scene = name;
    return { scene: s.scene };
  },
});
