/**
 * The info-level story an operator reads in the log: devices connecting and disconnecting,
 * alarms raised and cleared, commands sent, answered and expired. It listens on the bus
 * (broadcast), so the services that do the work stay free of log policy, and it bounds what
 * one burst can write: 10,000 devices reconnecting after a network blip are a few lines and a
 * count, not 10,000 lines.
 */
import type { CommandStatus } from '../domain/action-apis.js';
import type { AlarmAction } from '../domain/bus-event-map.js';
import type { DeviceStatus } from '../domain/device.js';
import type { Bus, Clock, Logger } from '../ports.js';

export interface LogBudgetOptions {
  /** Lines of one kind per window; beyond them only a count, logged when the window ends. */
  readonly linesPerWindow: number;
  readonly windowMs: number;
}

export const DEFAULT_LOG_BUDGET: LogBudgetOptions = { linesPerWindow: 20, windowMs: 10_000 };

/** Per-kind line budget: `take(kind)` says whether a line may be written now. */
export class LogBudget {
  private readonly used = new Map<string, { windowStart: number; lines: number; suppressed: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: LogBudgetOptions = DEFAULT_LOG_BUDGET,
  ) {}

  take(kind: string): boolean {
    const now = this.clock.now();
    let entry = this.used.get(kind);
    if (!entry || now - entry.windowStart >= this.options.windowMs) {
      if (entry && entry.suppressed > 0) this.logger.info({ kind, suppressed: entry.suppressed, windowMs: this.options.windowMs }, `${entry.suppressed} more "${kind}" events not logged`);
      entry = { windowStart: now, lines: 0, suppressed: 0 };
      this.used.set(kind, entry);
    }
    if (entry.lines < this.options.linesPerWindow) {
      entry.lines += 1;
      return true;
    }
    entry.suppressed += 1;
    return false;
  }

  /** Writes the counts of every window that suppressed lines (at shutdown). */
  flush(): void {
    for (const [kind, entry] of this.used) {
      if (entry.suppressed > 0) this.logger.info({ kind, suppressed: entry.suppressed }, `${entry.suppressed} more "${kind}" events not logged`);
    }
    this.used.clear();
  }
}

const ALARM_LINES: Partial<Record<AlarmAction, string>> = { raised: 'alarm raised', cleared: 'alarm cleared', acknowledged: 'alarm acknowledged' };

/** Command states worth a line: handed to the device, answered, or given up on. */
const COMMAND_LINES: Partial<Record<CommandStatus, string>> = {
  SENT: 'command sent',
  DELIVERED: 'command delivered',
  SUCCESSFUL: 'command answered',
  FAILED: 'command failed',
  TIMEOUT: 'command timed out',
  EXPIRED: 'command expired',
};

/**
 * What a status event (published on connectivity edges only, services/status.ts) tells: a
 * session opened or closed, or a device without a session (HTTP, CoAP) became active or went quiet.
 */
export function statusLine(s: Pick<DeviceStatus, 'online' | 'lastConnect' | 'lastDisconnect' | 'lastActivity'>): string {
  const connect = s.lastConnect ?? -1;
  const disconnect = s.lastDisconnect ?? -1;
  const activity = s.lastActivity ?? -1;
  if (disconnect >= 0 && disconnect >= connect && disconnect >= activity) return 'device disconnected';
  if (!s.online) return 'device offline';
  return connect >= 0 && connect >= activity ? 'device connected' : 'device active';
}

export class EventLog {
  private readonly unsubscribe: (() => void)[] = [];
  readonly budget: LogBudget;

  constructor(
    private readonly deps: { bus: Bus; clock: Clock; logger: Logger },
    budget: LogBudgetOptions = DEFAULT_LOG_BUDGET,
  ) {
    this.budget = new LogBudget(deps.clock, deps.logger, budget);
  }

  start(): void {
    const { bus, logger } = this.deps;
    this.unsubscribe.push(
      bus.subscribe('status', 'status.>', (s) => {
        const kind = statusLine(s);
        if (!this.budget.take(kind)) return;
        logger.info({ deviceId: s.deviceId, tenantId: s.tenantId, ...(s.transport ? { transport: s.transport } : {}) }, kind);
      }),
      bus.subscribe('alarm', 'alarm.>', (e) => {
        const line = ALARM_LINES[e.action];
        if (!line || !this.budget.take(line)) return;
        logger.info({ alarmId: e.alarm.id, deviceId: e.deviceId, type: e.alarm.type, severity: e.alarm.severity }, line);
      }),
      bus.subscribe('command', 'command.>', (e) => {
        const line = COMMAND_LINES[e.command.status];
        if (!line || !this.budget.take(line)) return;
        logger.info({ commandId: e.command.id, deviceId: e.deviceId, method: e.command.method, status: e.command.status, ...(e.command.error ? { error: e.command.error } : {}) }, line);
      }),
    );
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    this.budget.flush();
  }
}
