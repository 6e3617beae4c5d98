/**
 * Edge test support: the pymodbus PLC from shared/peers as a child process, mbpoll to read and
 * write it independently of our Modbus client, and a free-port helper.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const PLC_SCRIPT = '/work/shared/peers/pymodbus_server.py';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface Plc {
  readonly port: number;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the pymodbus PLC and waits until it accepts a Modbus read. */
export async function startPlc(lifetimeS = 300): Promise<Plc> {
  const port = await freePort();
  const child = spawn('/usr/bin/python3', [PLC_SCRIPT, String(port), String(lifetimeS)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`PLC exited: ${stderr}`);
    try {
      await mbpoll(port, ['-t', '4', '-r', '1']);
      return {
        port,
        child,
        stop: () =>
          new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      };
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  child.kill('SIGKILL');
  throw new Error(`PLC did not answer on ${port}: ${stderr}`);
}

/** mbpoll one-shot (references from 1, as mbpoll counts them); returns stdout. */
export async function mbpoll(port: number, args: string[], write: string[] = []): Promise<string> {
  const { stdout } = await run('mbpoll', ['-m', 'tcp', '-p', String(port), '-a', '1', '-1', ...args, '127.0.0.1', ...write], { timeout: 5000 });
  return stdout;
}

/** Reads one holding register (0-based PDU address) with mbpoll. */
export async function readHolding(port: number, address: number): Promise<number> {
  const out = await mbpoll(port, ['-t', '4', '-r', String(address + 1)]);
  const m = /\[\d+\]:\s+(-?\d+)/.exec(out);
  if (!m) throw new Error(`unexpected mbpoll output: ${out}`);
  return Number(m[1]);
}

/** Reads one coil (0-based) with mbpoll. */
export async function readCoil(port: number, address: number): Promise<number> {
  const out = await mbpoll(port, ['-t', '0', '-r', String(address + 1)]);
  const m = /\[\d+\]:\s+(\d)/.exec(out);
  if (!m) throw new Error(`unexpected mbpoll output: ${out}`);
  return Number(m[1]);
}

/** Writes a float32 (big-endian words) to holding registers address, address+1. */
export async function writeFloat(port: number, address: number, value: number): Promise<void> {
  await mbpoll(port, ['-t', '4:float', '-B', '-r', String(address + 1)], [String(value)]);
}

export interface Link {
  readonly port: number;
  /** Drops every connection and stops listening: the PLC is unreachable. */
  cut(): Promise<void>;
  /** Listens again on the same port (Node sets SO_REUSEADDR, so TIME_WAIT does not block it). */
  restore(): Promise<void>;
}

/**
 * A TCP relay in front of the PLC, to cut the network without restarting pymodbus (its server
 * does not set SO_REUSEADDR, so it cannot rebind a port that still has connections in TIME_WAIT).
 */
export async function relay(targetPort: number): Promise<Link> {
  const sockets = new Set<Socket>();
  const listen = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const server = createServer((inbound) => {
        const outbound = connect(targetPort, '127.0.0.1');
        for (const s of [inbound, outbound]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => undefined);
        }
        inbound.pipe(outbound).pipe(inbound);
        inbound.on('close', () => outbound.destroy());
        outbound.on('close', () => inbound.destroy());
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(server));
    });
  let server = await listen(0);
  const port = (server.address() as { port: number }).port;
  return {
    port,
    async cut() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
    async restore() {
      server = await listen(port);
    },
  };
}
