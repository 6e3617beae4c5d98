/**
 * Five-field cron (minute hour day-of-month month day-of-week) read in an IANA time zone, with
 * no dependency: the wall time of an instant comes from Intl.DateTimeFormat. Fields take `*`,
 * numbers, ranges `a-b`, steps `*\/n` and `a-b/n`, lists, and names (JAN–DEC, SUN–SAT; 7 = Sunday).
 * As in Vixie cron, when both day fields are restricted a day matches if either does.
 *
 * Around DST changes a schedule fires at every instant whose local wall time matches: a skipped
 * wall time (02:30 on a spring-forward night) does not fire, a repeated one fires twice.
 */

export interface Cron {
  readonly source: string;
  readonly timeZone: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly days: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly weekdays: ReadonlySet<number>;
  readonly daysRestricted: boolean;
  readonly weekdaysRestricted: boolean;
}

export class CronError extends Error {
  override name = 'CronError';
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const ALIASES: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

function parseField(text: string, what: string, min: number, max: number, names: readonly string[] = [], nameBase = 0): Set<number> {
  const out = new Set<number>();
  const value = (s: string): number => {
    const byName = names.indexOf(s.toUpperCase());
    if (byName >= 0) return byName + nameBase;
    if (!/^\d+$/.test(s)) throw new CronError(`${what}: "${s}" is not a number`);
    const n = Number(s);
    if (n < min || n > max) throw new CronError(`${what}: ${n} is outside ${min}-${max}`);
    return n;
  };
  for (const part of text.split(',')) {
    const [rangeText, stepText, extra] = part.split('/');
    if (extra !== undefined || rangeText === undefined || rangeText === '') throw new CronError(`${what}: malformed "${part}"`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new CronError(`${what}: bad step "${stepText}"`);
    let lo: number;
    let hi: number;
    if (rangeText === '*') [lo, hi] = [min, max];
    else if (rangeText.includes('-')) {
      const [a, b] = rangeText.split('-');
      lo = value(a ?? '');
      hi = value(b ?? '');
      if (lo > hi) throw new CronError(`${what}: range ${rangeText} runs backwards`);
    } else {
      lo = value(rangeText);
      hi = stepText === undefined ? lo : max;
    }
    for (let n = lo; n <= hi; n += step) out.add(n);
  }
  return out;
}

/** Throws CronError (unknown zone, malformed field) with a message that names the field. */
export function parseCron(source: string, timeZone = 'UTC'): Cron {
  checkTimeZone(timeZone);
  const expanded = ALIASES[source.trim().toLowerCase()] ?? source;
  const fields = expanded.trim().split(/\s+/);
  if (fields.length !== 5) throw new CronError(`expected 5 fields (minute hour day month weekday), got ${fields.length}`);
  const [mi, h, d, mo, wd] = fields as [string, string, string, string, string];
  const weekdays = parseField(wd, 'day of week', 0, 7, WEEKDAYS);
  if (weekdays.has(7)) {
    weekdays.delete(7);
    weekdays.add(0);
  }
  return {
    source,
    timeZone,
    minutes: parseField(mi, 'minute', 0, 59),
    hours: parseField(h, 'hour', 0, 23),
    days: parseField(d, 'day of month', 1, 31),
    months: parseField(mo, 'month', 1, 12, MONTHS, 1),
    weekdays,
    daysRestricted: d !== '*' && !d.startsWith('*/'),
    weekdaysRestricted: wd !== '*' && !wd.startsWith('*/'),
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

export function checkTimeZone(timeZone: string): void {
  try {
    formatterFor(timeZone);
  } catch {
    throw new CronError(`unknown time zone "${timeZone}"`);
  }
}

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export interface WallTime {
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly weekday: number;
}

/** The local wall time of an instant in a zone. */
export function wallTime(ms: number, timeZone: string): WallTime {
  const parts: Record<string, string> = {};
  for (const p of formatterFor(timeZone).formatToParts(ms)) parts[p.type] = p.value;
  return {
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: WEEKDAYS.indexOf((parts.weekday ?? '').toUpperCase()),
  };
}

function dayMatches(cron: Cron, t: WallTime): boolean {
  if (!cron.months.has(t.month)) return false;
  const byDay = cron.days.has(t.day);
  const byWeekday = cron.weekdays.has(t.weekday);
  if (cron.daysRestricted && cron.weekdaysRestricted) return byDay || byWeekday;
  return byDay && byWeekday;
}

/** True when the minute starting at `ms` (any instant in it) is a scheduled one. */
export function cronMatches(cron: Cron, ms: number): boolean {
  const t = wallTime(ms, cron.timeZone);
  return dayMatches(cron, t) && cron.hours.has(t.hour) && cron.minutes.has(t.minute);
}

const MINUTE = 60_000;
/** Leap days and weekday-restricted February 29ths can be years apart. */
const SEARCH_LIMIT_MS = 8 * 366 * 86_400_000;

/**
 * The first scheduled minute strictly after `after` (ms), or undefined if none within 8 years.
 * Skips whole days and hours that cannot match, so a search costs at most a few thousand
 * Intl lookups even for a yearly schedule.
 */
export function nextCronTime(cron: Cron, after: number): number | undefined {
  let t = Math.floor(after / MINUTE) * MINUTE + MINUTE;
  const limit = after + SEARCH_LIMIT_MS;
  while (t <= limit) {
    const w = wallTime(t, cron.timeZone);
    if (!dayMatches(cron, w)) {
      // To the next local midnight (re-checked: a DST change may land an hour off).
      t += ((23 - w.hour) * 60 + (60 - w.minute)) * MINUTE;
      continue;
    }
    if (!cron.hours.has(w.hour)) {
      t += (60 - w.minute) * MINUTE;
      continue;
    }
    if (!cron.minutes.has(w.minute)) {
      t += MINUTE;
      continue;
    }
    return t;
  }
  return undefined;
}
