/** The NATS JetStream bus (bus.ts); the layout of subjects, streams and consumers is in subjects.ts and group.ts. */
export { NatsBus, type NatsBusOptions } from './bus.js';
