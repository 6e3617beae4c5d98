/**
 * Checks of local rules the schema cannot express: which actions run on the edge and with what
 * parameters, and the schedule of a schedule rule. Run when the file loads and on every push.
 */
import { parseDuration } from '../../domain/duration.js';
import { ALARM_SEVERITIES, type AlarmSeverity } from '../../domain/action-apis.js';

export const EDGE_ACTIONS = ['command', 'telemetry', 'log', 'alarm', 'clearAlarm', 'sms'] as const;
/** The shortest interval of an `every` schedule. */
export const MIN_EVERY_MS = 1000;

interface RuleLike {
  readonly trigger: string;
  readonly schedule?: { readonly cron?: string; readonly every?: string; readonly timeZone?: string };
}

export function scheduleProblems(r: RuleLike, at: string): string[] {
  const s = r.schedule;
  if (r.trigger !== 'schedule') return s ? [`${at}.schedule: only for trigger: schedule`] : [];
  if (!s || (s.cron === undefined) === (s.every === undefined)) return [`${at}.schedule: a schedule rule needs schedule.cron or schedule.every (one of them)`];
  if (s.every !== undefined) {
    const ms = parseDuration(s.every);
    if (ms === undefined || ms < MIN_EVERY_MS) return [`${at}.schedule.every: "${s.every}" is not a duration of at least 1s (e.g. "30s", "5m")`];
    if (s.timeZone !== undefined) return [`${at}.schedule.timeZone: only with cron`];
  }
  return [];
}

export function edgeActionProblems(a: Readonly<Record<string, unknown>>, at: string, devices: ReadonlySet<string>, smsDevices: ReadonlySet<string>): string[] {
  const type = a.type;
  if (!EDGE_ACTIONS.includes(type as (typeof EDGE_ACTIONS)[number])) return [`${at}.type: "${String(type)}" does not run on the edge (${EDGE_ACTIONS.join(', ')})`];
  const problems: string[] = [];
  if (type === 'command' && typeof a.device === 'string' && !devices.has(a.device)) problems.push(`${at}.device: no device "${a.device}"`);
  if (type === 'alarm' || type === 'clearAlarm') {
    if (typeof a.alarmType !== 'string' || a.alarmType === '' || a.alarmType.length > 255) problems.push(`${at}.alarmType: required, 1..255 characters`);
    if (type === 'alarm' && a.severity !== undefined && !ALARM_SEVERITIES.includes(a.severity as AlarmSeverity)) problems.push(`${at}.severity: one of ${ALARM_SEVERITIES.join(', ')}`);
  }
  if (type === 'sms') {
    if (typeof a.device !== 'string' || !smsDevices.has(a.device)) problems.push(`${at}.device: an sms action names a device of an sms connector (the number it texts)`);
    if (typeof a.text !== 'string' || a.text === '') problems.push(`${at}.text: required`);
  }
  return problems;
}
