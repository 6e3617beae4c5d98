import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InboundAcks, type AckOutput } from '../../../../src/adapters/transport/mqtt/inbound-acks.js';

class Output implements AckOutput {
  readonly written: number[] = [];
  unstoredCalls = 0;
  write(buf: Buffer): void {
    this.written.push(buf.readUInt16BE(2)); // packet id
  }
  acksFlushed(): void {}
  unstored(): void {
    this.unstoredCalls++;
  }
}

test('regression: MQTT 3.1.1 acknowledges a message the platform failed to store (0x88), losing it', async () => {
  const out = new Output();
  const acks = new InboundAcks(out);
  acks.push(1, 1, Promise.resolve(0), 4);
  acks.push(1, 2, Promise.resolve(0x88), 4); // storage failed: UNAVAILABLE
  acks.push(1, 3, Promise.resolve(0), 4);
  await acks.settled();
  assert.deepEqual(out.written, [1], 'only the ack before it is written; none for the lost message or after it');
  assert.equal(out.unstoredCalls, 1, 'the connection is closed so the client resends');
});

test('MQTT 3.1.1 still acknowledges (and drops) a message the device got wrong', async () => {
  const out = new Output();
  const acks = new InboundAcks(out);
  acks.push(1, 1, Promise.resolve(0x99), 4);
  acks.push(1, 2, 0, 4);
  await acks.settled();
  assert.deepEqual(out.written, [1, 2]);
  assert.equal(out.unstoredCalls, 0);
});

test('MQTT 5 gets the failure as a reason code instead', async () => {
  const out = new Output();
  const acks = new InboundAcks(out);
  acks.push(1, 7, Promise.resolve(0x88), 5);
  await acks.settled();
  assert.deepEqual(out.written, [7]);
  assert.equal(out.unstoredCalls, 0);
});
