/**
 * One server per data directory. Two platforms on one SQLite file would run two brokers and two
 * rule engines over the same data; the second start is refused with one clear line instead.
 *
 * The lock is a file created with O_EXCL holding the owner's pid and, on Linux, the process's
 * start time (so a reused pid — a container's pid 1 after a restart — is not mistaken for the
 * owner). A lock left by a process that no longer runs (kill -9, power loss) is stale and taken
 * over; the take-over is one rename, so two starts racing for a stale lock cannot both win.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'continuum.lock';

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`data directory ${dataDir} is in use by another Continuum server (pid ${pid}); stop it first or choose another --data-dir`);
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  release(): void;
}

interface Owner {
  readonly pid: number;
  /** /proc/<pid>/stat field 22 (clock ticks since boot), when known. */
  readonly started?: string;
}

/** Data directories this process holds (a second platform in the same process is refused too). */
const heldHere = new Set<string>();

function startTimeOf(pid: number): string | undefined {
  try {
    // Field 2 (comm) may hold spaces and parentheses: count fields after its closing ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function isRunning(owner: Owner): boolean {
  if (!Number.isSafeInteger(owner.pid) || owner.pid <= 0) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else — still running.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const started = startTimeOf(owner.pid);
  return owner.started === undefined || started === undefined || started === owner.started;
}

function ownerOf(file: string): Owner | undefined {
  try {
    const [pid, started] = readFileSync(file, 'utf8').trim().split(' ');
    return { pid: Number.parseInt(pid ?? '', 10), ...(started ? { started } : {}) };
  } catch {
    return undefined;
  }
}

function createExclusive(file: string): boolean {
  try {
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, `${process.pid} ${startTimeOf(process.pid) ?? ''}`.trim() + '\n');
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Takes the data directory for this process; throws DataDirLockedError while another server holds it. */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, LOCK_FILE);
  if (heldHere.has(file)) throw new DataDirLockedError(dataDir, process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createExclusive(file)) {
      heldHere.add(file);
      return { release: () => releaseIfOurs(file) };
    }
    const owner = ownerOf(file);
    // Our own pid in a lock we do not hold: left by an earlier process that had this pid.
    if (owner && owner.pid !== process.pid && isRunning(owner)) throw new DataDirLockedError(dataDir, owner.pid);
    // Stale: move it aside (atomic); whoever renames it first retries the exclusive create.
    try {
      renameSync(file, `${file}.stale-${process.pid}`);
      rmSync(`${file}.stale-${process.pid}`, { force: true });
    } catch {
      // Another start moved it first; try again.
    }
  }
  throw new DataDirLockedError(dataDir, ownerOf(file)?.pid ?? 0);
}

function releaseIfOurs(file: string): void {
  if (!heldHere.delete(file)) return;
  if (ownerOf(file)?.pid === process.pid) rmSync(file, { force: true });
}
