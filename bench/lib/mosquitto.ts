/**
 * The reference broker: the Debian mosquitto binary on a free loopback port, configured so it
 * neither drops nor throttles QoS 1 (no inflight or queue limits) and keeps nothing on disk.
 */
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './net.js';
import { spawnTracked, type Spawned } from './proc.js';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export interface Mosquitto {
  readonly proc: Spawned;
  readonly port: number;
  stop(): Promise<number | null>;
}

export async function startMosquitto(dir: string): Promise<Mosquitto> {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'max_inflight_messages 0',
    'max_queued_messages 0',
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
  ];
  // As root, mosquitto would switch to the "mosquitto" user; stay who we are.
  if (process.getuid?.() === 0) lines.push('user root');
  writeFileSync(conf, lines.join('\n') + '\n');
  const proc = spawnTracked('mosquitto', MOSQUITTO, ['-c', conf]);
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (proc.child.exitCode !== null) throw new Error(`mosquitto exited ${proc.child.exitCode}: ${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen in 10 s: ${proc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, port, stop: () => proc.stop(5000) };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
