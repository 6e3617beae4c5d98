/**
 * Compare-and-set writes and their retry loop. Alarm and command changes are read-modify-write;
 * the store takes the write only over the version the writer read (AlarmStore.updateAlarm,
 * CommandStore.updateCommand), so when two writers (two nodes, or two services on one store)
 * race, one wins and the other re-reads and applies its change again: no update is lost, and no
 * lock spans processes.
 */
import { isPlatformError, PlatformError } from '../domain/errors.js';

/** Far more than two racing writers need; a write that still loses is an error, not a hang. */
export const MAX_CAS_ATTEMPTS = 32;

/** A write that lost the race: the attempt is run again from a fresh read. */
class LostRace extends Error {
  override name = 'LostRace';
}

/**
 * Awaits a store write; a CONFLICT from it (stale version, or an insert another writer beat
 * us to) makes retryOnConflict run the attempt again. Any other error passes through.
 */
export async function casWrite(write: Promise<void>): Promise<void> {
  try {
    await write;
  } catch (err) {
    if (isPlatformError(err, 'CONFLICT')) throw new LostRace('compare-and-set lost', { cause: err });
    throw err;
  }
}

/** Runs `attempt` (read, change, casWrite) until no casWrite in it lost a race. */
export async function retryOnConflict<T>(attempt: () => Promise<T>, what: string): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof LostRace)) throw err;
      if (i >= MAX_CAS_ATTEMPTS) throw new PlatformError('CONFLICT', `${what}: still changed by other writers after ${i} attempts`, { cause: err });
      // Writers that lost together would collide again in lockstep: a random pause apart.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** i)));
    }
  }
}
