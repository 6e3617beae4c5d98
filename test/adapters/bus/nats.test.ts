/**
 * The Bus contract on the NATS JetStream bus, against the machine's nats-server (127.0.0.1:4222,
 * or CONTINUUM_TEST_NATS_URL). Every bus of this run gets its own random prefix, and every
 * stream of the run is deleted at the end.
 */
import { after } from 'node:test';
import { randomBytes } from 'node:crypto';
import { NatsBus } from '../../../src/adapters/bus/nats/index.js';
import { busContract } from './contract.js';
import { deleteStreams, NATS_URL } from './nats-support.js';

const RUN = `ct${randomBytes(4).toString('hex')}`;
let n = 0;

busContract('nats', ({ onDeadLetter }) =>
  NatsBus.connect({ url: NATS_URL, prefix: `${RUN}_${n++}`, partitions: 8, ackWaitMs: 2000, redeliveryDelayMs: () => 1, onDeadLetter }),
);

after(async () => {
  await deleteStreams(RUN);
});
