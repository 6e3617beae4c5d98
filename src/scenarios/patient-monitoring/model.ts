/**
 * A patient's wearable (heart rate, SpO2, skin temperature) and, for the M2M twin, a bedside ECG
 * recorder that uploads a record summary over HTTP. patient-1 has a desaturation episode shortly
 * after the start: SpO2 sinks to the high 80s and the heart rate climbs, then both recover.
 */
import { defineModel } from '../../simulator/model.js';
import { clamp, daily, gaussian, MINUTE, round } from '../physics.js';

interface Wearable {
  startedAt: number;
  /** Simulated offset from start of the episode, or -1 for none. */
  episodeAtMs: number;
  baseHr: number;
  battery: number;
}

const EPISODE_MS = 8 * MINUTE;

/** 0 outside the episode, rising to 1 in its middle. */
function episode(s: Wearable, simNow: number): number {
  if (s.episodeAtMs < 0) return 0;
  const t = simNow - s.startedAt - s.episodeAtMs;
  return t < 0 || t > EPISODE_MS ? 0 : Math.sin((t / EPISODE_MS) * Math.PI);
}

export const wearable = defineModel<Wearable>({
  init(ctx, now) {
    return { startedAt: now, episodeAtMs: ctx.index === 0 ? 20_000 : -1, baseHr: 62 + ctx.random() * 14, battery: 70 + ctx.random() * 30 };
  },
  step(s, { simNow, dtSimMs }, ctx) {
    const e = episode(s, simNow);
    const activity = daily(simNow, 11);
    s.battery = clamp(s.battery - (dtSimMs / MINUTE) * 0.01, 0, 100);
    return {
      heartRate: Math.round(s.baseHr + 12 * activity + 45 * e + gaussian(ctx.random) * 2),
      spo2: Math.round(clamp(97.5 - 11 * e + gaussian(ctx.random) * 0.6, 70, 100)),
      bodyTemp: round(36.6 + 0.3 * daily(simNow, 18) + gaussian(ctx.random) * 0.05),
      battery: round(s.battery),
    };
  },
  attributes: () => ({ model: 'wrist monitor', firmware: '1.9.0' }),
});

interface Recorder {
  record: number;
}

/** Uploads one 10 s ECG record summary per step (a hospital server's upload, not a live stream). */
export const ecgRecorder = defineModel<Recorder>({
  init: () => ({ record: 0 }),
  step(s, _time, ctx) {
    s.record += 1;
    const hr = Math.round(70 + gaussian(ctx.random) * 3);
    return {
      ecgHeartRate: hr,
      ecgRecord: { record: s.record, durationS: 10, sampleRateHz: 250, leads: ['I', 'II', 'III'], rr: round(60 / hr, 3), qrsMs: Math.round(90 + gaussian(ctx.random) * 4) },
    };
  },
  attributes: () => ({ model: '3-lead ECG recorder', upload: 'https' }),
});
