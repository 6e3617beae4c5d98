/**
 * Child processes for the bench, and what Linux says about them: CPU time from
 * /proc/<pid>/stat (utime + stime, in clock ticks) and resident memory from /proc/<pid>/status.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { onCleanup } from './cleanup.js';

const CLK_TCK = 100; // getconf CLK_TCK on Linux x86-64 and arm64

export interface Spawned {
  readonly child: ChildProcess;
  readonly pid: number;
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function terminate(child: ChildProcess, graceMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const code = await exited(child);
  clearTimeout(timer);
  return code;
}

/** Spawns a process whose stdout/stderr are kept (last 64 KB) for error messages. */
export function spawnTracked(name: string, command: string, args: string[], options: SpawnOptions = {}): Spawned {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-65_536);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const undo = onCleanup(name, () => void terminate(child, 2000));
  return {
    child,
    pid: child.pid,
    output: () => output,
    stop: async (graceMs = 30_000) => {
      const code = await terminate(child, graceMs);
      await undo();
      return code;
    },
  };
}

/** CPU seconds (user + system) a process has used. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces: split after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // fields 14 and 15 of the full line
}

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** Bytes the process caused to be written to storage (page cache included), from /proc/<pid>/io. */
export function writeBytes(pid: number): number {
  const m = /^write_bytes: (\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

export interface Usage {
  /** CPU over the interval, in percent of one core (200 = both cores of this machine). */
  readonly cpuPct: number;
  readonly rssMb: number;
  readonly peakRssMb: number;
  /** MB written to storage over the interval (the SQLite WAL and checkpoints, for the platform). */
  readonly writtenMb: number;
  /** The process was gone when the interval ended. */
  readonly exited?: boolean;
}

/** Measures one process between start() and stop(), sampling RSS every 250 ms for the peak. */
export class UsageMeter {
  private cpu0 = 0;
  private t0 = 0;
  private peak = 0;
  private written0 = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly pid: number) {}

  start(): void {
    this.cpu0 = cpuSeconds(this.pid);
    this.t0 = performance.now();
    this.peak = rssMb(this.pid);
    this.written0 = writeBytes(this.pid);
    this.timer = setInterval(() => {
      try {
        this.peak = Math.max(this.peak, rssMb(this.pid));
      } catch {
        // the process is gone; stop() reports what was seen
      }
    }, 250);
  }

  stop(): Usage {
    clearInterval(this.timer);
    const seconds = (performance.now() - this.t0) / 1000;
    if (!existsSync(`/proc/${this.pid}`)) {
      // Died during the run (a reference that ran out of memory): say so instead of failing the bench.
      return { cpuPct: Number.NaN, rssMb: Number.NaN, peakRssMb: this.peak, writtenMb: Number.NaN, exited: true };
    }
    const rss = rssMb(this.pid);
    const writtenMb = (writeBytes(this.pid) - this.written0) / 2 ** 20;
    return { cpuPct: ((cpuSeconds(this.pid) - this.cpu0) / seconds) * 100, rssMb: rss, peakRssMb: Math.max(this.peak, rss), writtenMb };
  }
}
