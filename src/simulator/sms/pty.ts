/**
 * A linked pair of pseudo-terminals from socat (`pty,raw,echo=0` on both ends): what one end
 * writes the other reads, like a null-modem cable. The modem emulator holds one end; the
 * edge's modem transport opens the other as its "serial port".
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PtyPair {
  /** The end for the emulator. */
  readonly modemSide: string;
  /** The end for the application (the edge's `modem.path`). */
  readonly hostSide: string;
  close(): Promise<void>;
}

/** `dir`: where the two links are made (kept on close), so a new pair can take the old paths: a modem plugged in again. */
export async function openPtyPair(options: { dir?: string; timeoutMs?: number } = {}): Promise<PtyPair> {
  const own = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'continuum-pty-'));
  const timeoutMs = options.timeoutMs ?? 5000;
  const modemSide = join(dir, 'modem');
  const hostSide = join(dir, 'host');
  // Links left by an earlier pair would look ready at once and make socat fail to link.
  for (const link of [modemSide, hostSide]) rmSync(link, { force: true });
  const child = spawn('socat', [`pty,raw,echo=0,link=${modemSide}`, `pty,raw,echo=0,link=${hostSide}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(modemSide) && existsSync(hostSide))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      if (own) rmSync(dir, { recursive: true, force: true });
      throw new Error(`socat did not create the pty pair: ${stderr || 'timed out'}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    modemSide,
    hostSide,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      if (own) rmSync(dir, { recursive: true, force: true });
    },
  };
}
