/**
 * Test support: a NATS JetStream cluster of its own (three `nats-server` processes on 127.0.0.1,
 * free ports, a store dir each), for tests that kill and restart a NATS server. The machine's
 * nats-server on 4222 is shared by every test run, so it is never killed; this one belongs to
 * the test that started it and is removed with it.
 *
 * JetStream clustering needs a server_name per server and a named cluster whose routes list
 * every peer (nats-server docs, "JetStream Clustering"); an R3 stream then keeps accepting
 * writes while two of the three servers are up (a RAFT quorum).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { connect } from 'nats';
import { tempDir } from './tmp.js';

/** Debian installs the daemon in /usr/sbin, which a non-root PATH leaves out. */
export const NATS_SERVER_BIN = existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server';

export interface NatsServerProcess {
  readonly name: string;
  readonly port: number;
  readonly routePort: number;
  child: ChildProcess;
  output: string;
}

export interface NatsCluster {
  readonly servers: readonly NatsServerProcess[];
  /** Every server's client URL, comma-separated (the platform's bus.nats.url takes this form). */
  readonly url: string;
  /** SIGKILL one server (no clean shutdown, no leadership hand-off) and wait for it to exit. */
  kill(index: number): Promise<void>;
  /** Starts a killed server again on the same ports and store dir. */
  restart(index: number): Promise<void>;
  /** Resolves once JetStream answers through `servers` (a meta leader is elected). */
  ready(servers?: string): Promise<void>;
  stop(): Promise<void>;
}

/** A TCP port the OS just handed out (closed again before it is used: a tiny race, fine on loopback). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const dir = tempDir('continuum-nats-');
  const clusterName = `ct${process.pid}`;
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ port: await freePort(), routePort: await freePort() })));
  const servers: NatsServerProcess[] = ports.map((p, i) => ({ name: `n${i + 1}`, ...p, child: undefined as unknown as ChildProcess, output: '' }));
  const configFile = (i: number): string => {
    const s = servers[i]!;
    const storeDir = join(dir, s.name);
    mkdirSync(storeDir, { recursive: true });
    const routes = servers.filter((_, j) => j !== i).map((o) => `nats-route://127.0.0.1:${o.routePort}`);
    const file = join(dir, `${s.name}.conf`);
    writeFileSync(
      file,
      [
        `server_name: ${s.name}`,
        `listen: 127.0.0.1:${s.port}`,
        `jetstream { store_dir: "${storeDir}" }`,
        `cluster { name: ${clusterName}, listen: 127.0.0.1:${s.routePort}, routes: [${routes.join(', ')}] }`,
        '',
      ].join('\n'),
    );
    return file;
  };
  const launch = (i: number): void => {
    const s = servers[i]!;
    s.output = '';
    s.child = spawn(NATS_SERVER_BIN, ['-c', configFile(i)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer): void => {
      s.output = (s.output + d.toString()).slice(-16_384);
    };
    s.child.stdout?.on('data', keep);
    s.child.stderr?.on('data', keep);
  };
  const url = servers.map((s) => `nats://127.0.0.1:${s.port}`).join(',');
  const ready = async (through = url): Promise<void> => {
    const deadline = Date.now() + 60_000;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const nc = await connect({ servers: through.split(','), timeout: 2000 });
        try {
          await (await nc.jetstreamManager({ timeout: 2000 })).getAccountInfo();
          return;
        } finally {
          await nc.close();
        }
      } catch (err) {
        last = err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    throw new Error(`NATS cluster not ready in 60 s: ${String(last)}\n${servers.map((s) => `${s.name}: ${s.output.slice(-1500)}`).join('\n')}`);
  };
  servers.forEach((_, i) => launch(i));
  const cluster: NatsCluster = {
    servers,
    url,
    ready,
    async kill(index) {
      const s = servers[index]!;
      s.child.kill('SIGKILL');
      await exited(s.child);
    },
    async restart(index) {
      launch(index);
      await ready(`nats://127.0.0.1:${servers[index]!.port}`);
    },
    async stop() {
      for (const s of servers) {
        if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
        await exited(s.child);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await ready();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
