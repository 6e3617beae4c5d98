/**
 * Validation of `configPush.allowHosts` for the edge file's own check (config.ts). Apart from
 * push-policy.ts, which reads the parsed file, so config.ts can use it without an import cycle.
 */
import { isIP } from 'node:net';

/** Problems in the allow-list itself (a malformed CIDR block), for the file's validation. */
export function allowHostsProblems(entries: readonly string[], at: string): string[] {
  return entries.flatMap((entry, i) => {
    if (!entry.includes('/') || entry.startsWith('/')) return [];
    const [net, bits] = entry.split('/') as [string, string];
    const family = isIP(net);
    const max = family === 6 ? 128 : 32;
    return family !== 0 && /^\d{1,3}$/.test(bits) && Number(bits) <= max ? [] : [`${at}[${i}]: "${entry}" is not a CIDR block (e.g. 192.168.10.0/24)`];
  });
}
