/** Test support for the NATS bus: the server's URL and clean-up of a run's streams. */
import { connect } from 'nats';

export const NATS_URL = process.env.CONTINUUM_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** Deletes every stream whose name starts with `prefix` (their consumers go with them). */
export async function deleteStreams(prefix: string): Promise<string[]> {
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await nc.jetstreamManager();
    const names: string[] = [];
    for await (const name of jsm.streams.names()) if (name.startsWith(prefix)) names.push(name);
    for (const name of names) await jsm.streams.delete(name);
    return names;
  } finally {
    await nc.close();
  }
}
