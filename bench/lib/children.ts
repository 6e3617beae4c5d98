/**
 * The bench's own child processes (load generator, sinks), forked with tsx and driven over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onCleanup } from './cleanup.js';
import { exited } from './proc.js';
import type { ConnectResult, LoadCommand, LoadReply, RunResult, SinkReady } from '../loadgen/protocol.js';

const LOADGEN = fileURLToPath(new URL('../loadgen/main.ts', import.meta.url));
const SINK = fileURLToPath(new URL('../loadgen/sink.ts', import.meta.url));

function forkTs(name: string, file: string, args: string[], nodeArgs: string[] = []): { child: ChildProcess; output: () => string; stop: () => Promise<void> } {
  const child = fork(file, args, { execArgv: [...nodeArgs, '--import', 'tsx'], silent: true });
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-16_384);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited(child);
  };
  const undo = onCleanup(name, kill);
  return { child, output: () => output, stop: undo };
}

export class LoadGen {
  private readonly proc = forkTs('load generator', LOADGEN, []);
  private pending: { resolve: (r: LoadReply) => void; reject: (e: Error) => void }[] = [];

  constructor() {
    this.proc.child.on('message', (reply: LoadReply) => this.pending.shift()?.resolve(reply));
    this.proc.child.on('exit', (code) => {
      const err = new Error(`load generator exited (${code}): ${this.proc.output()}`);
      for (const p of this.pending.splice(0)) p.reject(err);
    });
  }

  get pid(): number {
    return this.proc.child.pid ?? 0;
  }

  private async send(command: LoadCommand): Promise<unknown> {
    const reply = await new Promise<LoadReply>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.proc.child.send(command);
    });
    if (!reply.ok) throw new Error(`load generator: ${reply.error}`);
    return reply.result;
  }

  connect(command: Omit<Extract<LoadCommand, { cmd: 'mqtt-connect' }>, 'cmd'>): Promise<ConnectResult> {
    return this.send({ cmd: 'mqtt-connect', ...command }) as Promise<ConnectResult>;
  }

  async subscribe(target: { host: string; port: number }, topic: string): Promise<void> {
    await this.send({ cmd: 'mqtt-subscribe', target, topic });
  }

  run(command: Extract<LoadCommand, { cmd: 'mqtt-run' | 'http-run' | 'coap-run' }>): Promise<RunResult> {
    return this.send(command) as Promise<RunResult>;
  }

  async close(): Promise<void> {
    if (this.proc.child.connected) await this.send({ cmd: 'close' }).catch(() => undefined);
    await this.proc.stop();
  }
}

export interface Sink {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startSink(mode: 'mqtt' | 'http' | 'coap'): Promise<Sink> {
  // The npm coap reference keeps every exchange for its lifetime (247 s): at 25k+ msg/s for 60 s
  // that outgrows V8's default heap limit here, and the reference would die mid-run.
  const proc = forkTs(`${mode} sink`, SINK, [mode], ['--max-old-space-size=16384']);
  const ready = await new Promise<SinkReady>((resolve, reject) => {
    proc.child.once('message', (m: SinkReady) => resolve(m));
    proc.child.once('exit', (code) => reject(new Error(`${mode} sink exited (${code}): ${proc.output()}`)));
  });
  return { port: ready.port, pid: proc.child.pid ?? 0, stop: proc.stop };
}
