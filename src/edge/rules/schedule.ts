/**
 * Timers of schedule rules on the edge, by the edge's clock: `every` runs at a fixed interval
 * from the rule's start; `cron` at each scheduled minute (the platform's cron, domain/rules/
 * cron.ts, read in the rule's time zone). Ticks missed while the edge was stopped are not caught
 * up, as on the platform. Timers are unref'd: they never keep a stopping process alive.
 */
import { parseDuration } from '../../domain/duration.js';
import { nextCronTime, type Cron } from '../../domain/rules/cron.js';

/** setTimeout's limit; a cron minute further away is approached in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Starts the timer; returns its stop function. */
export function startSchedule(spec: { every?: string | undefined; cron?: Cron | undefined }, fire: (ts: number) => void): () => void {
  if (spec.every !== undefined) {
    const ms = parseDuration(spec.every) ?? 60_000;
    const timer = setInterval(() => fire(Date.now()), ms);
    timer.unref();
    return () => clearInterval(timer);
  }
  const cron = spec.cron;
  if (!cron) return () => undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const arm = (after: number): void => {
    if (stopped) return;
    const at = nextCronTime(cron, after);
    if (at === undefined) return;
    const wait = (): void => {
      const delay = at - Date.now();
      if (delay > MAX_DELAY_MS) {
        timer = setTimeout(wait, MAX_DELAY_MS);
      } else {
        timer = setTimeout(() => {
          fire(at);
          arm(at);
        }, Math.max(0, delay));
      }
      timer.unref();
    };
    wait();
  };
  arm(Date.now());
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
