/**
 * Interoperability with Eclipse Mosquitto's command-line clients (Debian `mosquitto-clients`):
 * QoS 0/1/2, retained, wills, persistent sessions and shared subscriptions, over 3.1.1 and 5.0.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { startBroker, type TestBroker } from './helpers.js';

const run = promisify(execFile);
let tb: TestBroker;
before(async () => {
  tb = await startBroker();
});
after(async () => {
  await tb.close();
});

const conn = (): string[] => ['-h', '127.0.0.1', '-p', String(tb.port)];

interface Sub {
  readonly proc: ChildProcess;
  /** Resolves once the SUBACK arrived. */
  readonly subscribed: Promise<void>;
  /** Lines `topic|payload|retain|qos`, complete when the process exits. */
  readonly lines: Promise<string[]>;
}

/**
 * mosquitto_sub with debug output: its SUBACK line tells when it is ready. stdbuf makes its stdout
 * line-buffered (a pipe would otherwise hold everything until exit).
 */
function sub(args: string[]): Sub {
  const proc = spawn('stdbuf', ['-oL', 'mosquitto_sub', ...conn(), '-d', '-F', 'MSG|%t|%p|%r|%q', ...args]);
  let out = '';
  let ready!: () => void;
  const subscribed = new Promise<void>((resolve) => (ready = resolve));
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('received SUBACK')) ready();
  });
  const lines = new Promise<string[]>((resolve) => {
    proc.on('close', () => resolve(out.split('\n').filter((l) => l.startsWith('MSG|')).map((l) => l.slice(4))));
  });
  return { proc, subscribed, lines };
}

const pub = (args: string[]): Promise<unknown> => run('mosquitto_pub', [...conn(), ...args]);

for (const version of ['mqttv311', 'mqttv5']) {
  test(`${version}: mosquitto_pub QoS 0/1/2 reach mosquitto_sub`, async () => {
    const s = sub(['-V', version, '-q', '2', '-t', `mosq/${version}/+`, '-C', '3', '-W', '10']);
    await s.subscribed;
    for (const q of ['0', '1', '2']) await pub(['-V', version, '-q', q, '-t', `mosq/${version}/q${q}`, '-m', `m${q}`]);
    assert.deepEqual(await s.lines, [0, 1, 2].map((q) => `mosq/${version}/q${q}|m${q}|0|${q}`));
  });

  test(`${version}: a retained message is delivered to a later subscriber with the retain flag`, async () => {
    await pub(['-V', version, '-q', '1', '-r', '-t', `mosq/${version}/retained`, '-m', 'kept']);
    const s = sub(['-V', version, '-q', '1', '-t', `mosq/${version}/retained`, '-C', '1', '-W', '10']);
    assert.deepEqual(await s.lines, [`mosq/${version}/retained|kept|1|1`]);
    await pub(['-V', version, '-r', '-t', `mosq/${version}/retained`, '-n']);
  });
}

test('mosquitto_sub --will-topic: killing the client publishes its will', async () => {
  const watcher = sub(['-q', '1', '-t', 'mosq/will', '-C', '1', '-W', '10']);
  await watcher.subscribed;
  const victim = sub(['-t', 'mosq/nothing', '--will-topic', 'mosq/will', '--will-payload', 'bye', '--will-qos', '1']);
  await victim.subscribed;
  victim.proc.kill('SIGKILL');
  assert.deepEqual(await watcher.lines, ['mosq/will|bye|0|1']);
});

test('mosquitto_sub -c (persistent session) gets what was published while it was away', async () => {
  const first = sub(['-c', '-i', 'mosq-persist', '-q', '1', '-t', 'mosq/persist', '-W', '1']);
  await first.subscribed;
  await first.lines;
  await pub(['-q', '1', '-t', 'mosq/persist', '-m', 'while-away']);
  const again = sub(['-c', '-i', 'mosq-persist', '-q', '1', '-t', 'mosq/persist', '-C', '1', '-W', '10']);
  assert.deepEqual(await again.lines, ['mosq/persist|while-away|0|1']);
});

test('mosquitto_sub -V 5 with $share: two members split the messages', async () => {
  const members = [0, 1].map(() => sub(['-V', 'mqttv5', '-q', '1', '-t', '$share/g/mosq/shared', '-W', '3']));
  await Promise.all(members.map((m) => m.subscribed));
  for (let i = 0; i < 6; i++) await pub(['-V', 'mqttv5', '-q', '1', '-t', 'mosq/shared', '-m', String(i)]);
  const got = await Promise.all(members.map((m) => m.lines));
  assert.equal(got[0]!.length + got[1]!.length, 6);
  assert.ok(got[0]!.length > 0 && got[1]!.length > 0);
});
