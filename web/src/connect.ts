/**
 * Ready-to-paste commands that send a device's first message, built from the platform's real
 * listening ports (GET /api/endpoints) and the host the browser reached the dashboard on. Every
 * value is single-quoted for a POSIX shell: a token is never interpreted by the shell.
 */
import { get } from './api.js';

export type Transport = 'mqtt' | 'coap' | 'http';
export const TRANSPORTS: readonly (readonly [Transport, string])[] = [
  ['mqtt', 'MQTT'],
  ['coap', 'CoAP'],
  ['http', 'HTTP'],
];

export interface Endpoints {
  mqtt?: number;
  coap?: number;
}

/** The bound MQTT (plain) and CoAP ports; absent when the platform does not listen on them. */
export async function loadEndpoints(): Promise<Endpoints> {
  const { items } = await get<{ items: { name: string; port: number }[] }>('/api/endpoints');
  const port = (name: string): number | undefined => items.find((e) => e.name === name)?.port;
  const out: Endpoints = {};
  const mqtt = port('mqtt');
  const coap = port('coap');
  if (mqtt) out.mqtt = mqtt;
  if (coap) out.coap = coap;
  return out;
}

export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The example message the commands send. */
export const SAMPLE = '{"temperature":21.5}';

export interface ConnectLine {
  readonly transport: Transport;
  readonly tool: string;
  readonly command: string;
}

/**
 * One line per transport the platform listens on. HTTP goes to the origin the dashboard came
 * from (the device API shares that server, also behind a proxy); MQTT and CoAP to its host name.
 */
export function connectLines(token: string, endpoints: Endpoints, where: { hostname: string; origin: string } = location): ConnectLine[] {
  // location.hostname keeps the brackets of an IPv6 literal: right in URLs, not for mosquitto_pub -h.
  const bare = where.hostname.replace(/^\[(.*)\]$/, '$1');
  const urlHost = bare.includes(':') ? `[${bare}]` : bare;
  const path = `/api/v1/${encodeURIComponent(token)}/telemetry`;
  const lines: ConnectLine[] = [];
  if (endpoints.mqtt) {
    lines.push({
      transport: 'mqtt',
      tool: 'mosquitto_pub',
      command: `mosquitto_pub -h ${shellQuote(bare)} -p ${endpoints.mqtt} -u ${shellQuote(token)} -t v1/devices/me/telemetry -m ${shellQuote(SAMPLE)}`,
    });
  }
  if (endpoints.coap) {
    lines.push({ transport: 'coap', tool: 'coap-client', command: `coap-client -m post -t application/json -e ${shellQuote(SAMPLE)} ${shellQuote(`coap://${urlHost}:${endpoints.coap}${path}`)}` });
  }
  lines.push({
    transport: 'http',
    tool: 'curl',
    command: `curl -X POST -H 'content-type: application/json' -d ${shellQuote(SAMPLE)} ${shellQuote(`${where.origin}${path}`)}`,
  });
  return lines;
}
