/**
 * Load generator process: started by the bench with child_process.fork, it executes one command
 * at a time from IPC (see protocol.ts) and answers each with one reply. It exits when the bench
 * disconnects, so a crashed bench never leaves a generator behind.
 */
import { CoapLoad } from './coap-gen.js';
import { HttpLoad } from './http-gen.js';
import { PublisherPool } from './mqtt-pub.js';
import { Subscriber } from './mqtt-sub.js';
import type { LoadCommand, LoadReply } from './protocol.js';

const pool = new PublisherPool();
let subscriber: Subscriber | undefined;

async function execute(command: LoadCommand): Promise<LoadReply> {
  switch (command.cmd) {
    case 'mqtt-connect':
      return { ok: true, result: await pool.connect(command.target, command.tokens, command.window, command.concurrency, command.localAddresses) };
    case 'mqtt-subscribe':
      subscriber = new Subscriber();
      await subscriber.open(command.target, command.topic);
      return { ok: true, result: {} };
    case 'mqtt-run': {
      subscriber?.resetCounts(performance.now() + command.run.durationMs);
      const result = await pool.runLoad(command.run);
      if (!subscriber) return { ok: true, result };
      // The broker acknowledges on receipt: wait (bounded) for what it still has to forward.
      const until = performance.now() + command.run.drainMs;
      while (subscriber.received < result.acked && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
      return { ok: true, result: { ...result, received: subscriber.received, receivedInWindow: subscriber.receivedInWindow } };
    }
    case 'http-run':
      return { ok: true, result: await new HttpLoad(command.target, command.tokens, command.sockets).run(command.run) };
    case 'coap-run':
      return { ok: true, result: await new CoapLoad(command.target, command.tokens, command.window).run(command.run) };
    case 'close':
      pool.close();
      subscriber?.close();
      setImmediate(() => process.exit(0));
      return { ok: true, result: {} };
  }
}

let queue = Promise.resolve();
process.on('message', (message: LoadCommand) => {
  queue = queue.then(async () => {
    let reply: LoadReply;
    try {
      reply = await execute(message);
    } catch (err) {
      reply = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    process.send?.(reply);
  });
});
process.on('disconnect', () => process.exit(0));
