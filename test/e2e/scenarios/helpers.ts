/** Real-client helpers for the scenario tests: mosquitto_pub / mosquitto_sub as devices, alarms over REST. */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { eventually, type ApiClient } from '../../support/platform.js';

const run = promisify(execFile);

export interface AlarmBody {
  id: string;
  type: string;
  severity: string;
  status: string;
  deviceId: string;
  count: number;
}

/** Publishes one message as the device with the mosquitto_pub command-line client (QoS 1: returns after PUBACK, i.e. after commit). */
export async function mosquittoPub(port: number, token: string, payload: unknown, topic = 'v1/devices/me/telemetry'): Promise<void> {
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-u', token, '-q', '1', '-t', topic, '-m', JSON.stringify(payload)]);
}

/**
 * A device that is nothing but `mosquitto_sub` on its RPC request topic: resolves with the first
 * `count` messages (topic and JSON body). `ready` resolves once the platform sees it online.
 */
export function mosquittoSub(port: number, token: string, count = 1, topic = 'v1/devices/me/rpc/request/+'): { messages: Promise<{ topic: string; body: unknown }[]>; kill: () => void } {
  const child = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-u', token, '-q', '1', '-t', topic, '-C', String(count), '-v', '-W', '30'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const messages = new Promise<{ topic: string; body: unknown }[]>((resolve, reject) => {
    // 'close', not 'exit': a quick subscriber can exit before its stdout has been read (regression:
    // "mosquitto_sub ended without a message" when the command arrived within ~150 ms).
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`mosquitto_sub exited ${code}: ${err}`));
      // A mosquitto_sub stopped by SIGTERM exits 0 too: no lines then, which is an error, not a parse failure.
      const lines = out.split('\n').filter((line) => line.trim().length > 0);
      if (lines.length === 0) return reject(new Error(`mosquitto_sub ended without a message (stderr: ${err.trim() || 'none'})`));
      try {
        resolve(
          lines.map((line) => {
            const space = line.indexOf(' ');
            return { topic: line.slice(0, space), body: JSON.parse(line.slice(space + 1)) as unknown };
          }),
        );
      } catch (parseErr) {
        reject(new Error(`mosquitto_sub printed something that is not "topic JSON": ${out.slice(0, 200)} (${(parseErr as Error).message})`));
      }
    });
  });
  // Handled here too, so a subscriber killed after a failed assertion does not add an unhandled rejection.
  messages.catch(() => undefined);
  return { messages, kill: () => child.kill() };
}

export async function waitOnline(api: ApiClient, deviceId: string): Promise<void> {
  await eventually(async () => ((await api.request<{ online: boolean }>('GET', `/api/devices/${deviceId}`)).body.online ? true : undefined), 10_000, 'device online');
}

export async function alarms(api: ApiClient, deviceId: string, status?: string): Promise<AlarmBody[]> {
  const res = await api.request<{ items: AlarmBody[]; total: number }>('GET', `/api/alarms?deviceId=${deviceId}${status ? `&status=${status}` : ''}`);
  if (res.status !== 200) throw new Error(`GET /api/alarms: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.items;
}

/** Waits until the device has exactly the given active alarm types. */
export function activeAlarmTypes(api: ApiClient, deviceId: string, want: string[]): Promise<AlarmBody[]> {
  return eventually(async () => {
    const items = await alarms(api, deviceId, 'active');
    return JSON.stringify(items.map((a) => a.type).sort()) === JSON.stringify([...want].sort()) ? items : undefined;
  }, 10_000, `active alarms [${want.join(', ')}]`);
}

export async function createRule(api: ApiClient, body: unknown): Promise<{ id: string }> {
  const res = await api.request<{ id: string }>('POST', '/api/rules', body);
  if (res.status !== 201) throw new Error(`POST /api/rules: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
