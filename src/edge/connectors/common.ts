/** Small pieces every polling connector shares: finding a configured command, reporting status. */
import type { ConnectorStatus, EdgeLogger, ReadingSink } from '../ports.js';

interface WithCommands {
  readonly config: { readonly commands: readonly { readonly method: string }[] };
}

type CommandOf<R extends WithCommands> = R['config']['commands'][number];

/** The device's runtime and its configured command, or an error the operator can act on. */
export function configuredCommand<R extends WithCommands>(runtimes: ReadonlyMap<string, R>, device: string, method: string): { rt: R; command: CommandOf<R> } {
  const rt = runtimes.get(device);
  if (!rt) throw new Error(`unknown device "${device}"`);
  const command = rt.config.commands.find((c) => c.method === method);
  if (!command) throw new Error(`device "${device}" has no command "${method}" (${rt.config.commands.map((c) => c.method).join(', ') || 'none configured'})`);
  return { rt, command };
}

export function connectorStatus(name: string, connected: boolean, counters: { readonly errors: number; readonly polls: number }, lastError?: string, lastPollMs?: number): ConnectorStatus {
  return {
    name,
    connected,
    errors: counters.errors,
    polls: counters.polls,
    ...(lastError !== undefined ? { lastError } : {}),
    ...(lastPollMs !== undefined ? { lastPollMs } : {}),
  };
}

/**
 * Tells the sink when a field device starts or stops answering, once per change (not on every
 * poll); `state.online` is the connector's memory of the last report (undefined before the first).
 */
export function reportDeviceStatus(
  state: { online?: boolean },
  at: { readonly connector: string; readonly device: string; readonly sink: ReadingSink | undefined; readonly logger: EdgeLogger },
  online: boolean,
  reason?: string,
): void {
  if (state.online === online) return;
  state.online = online;
  if (online) at.logger.info({ connector: at.connector, device: at.device }, 'field device answering');
  else at.logger.warn({ connector: at.connector, device: at.device, reason }, 'field device stopped answering');
  at.sink?.deviceStatus?.(at.device, online, reason);
}
