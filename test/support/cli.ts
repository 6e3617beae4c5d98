/** Runs the real `continuum` CLI in a child process (asynchronously, so a platform in this process keeps serving). */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'continuum.mjs');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Only PATH and `env` reach the child, so no CONTINUUM_* of the developer's shell leaks in. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
