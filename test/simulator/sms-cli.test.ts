/**
 * `runSmscSimulator` as a process: starts the SMSC with handsets from a YAML file, the pump model
 * answers an ESME's text, a tracker reports its position, and SIGTERM stops it with exit code 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SmppTransport } from '../../src/edge/connectors/sms/smpp-transport.js';
import type { InboundSms } from '../../src/edge/connectors/sms/transport.js';
import { eventually, tempDir } from '../support/platform.js';
import { waitForExit } from '../support/platform.js';

test('continuum simulate smsc: handsets from a file, pump and tracker models, clean SIGTERM', async () => {
  const dir = tempDir();
  const file = join(dir, 'handsets.yaml');
  writeFileSync(file, '- { number: "+491700000002", model: pump }\n- { number: "+491700000007", model: tracker, to: "+491700000000", intervalS: 0.2 }\n- { number: "+491700000001" }\n');
  const script = `import('./src/simulator/sms/cli.ts').then(async (m) => { process.exit(await m.runSmscSimulator(process.argv.slice(1), process)); })`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script, '--', '--port', '0', '--handsets', file, '--system-id', 'edge', '--password', 'pw'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  let t: SmppTransport | undefined;
  const transport = (port: number): SmppTransport => new SmppTransport({ host: '127.0.0.1', port, systemId: 'edge', password: 'pw', systemType: '', sourceAddr: '+491700000000', enquireLinkMs: 30_000, responseTimeoutMs: 3000, reconnect: { minMs: 50, maxMs: 200 } }, { debug() {}, info() {}, warn() {}, error() {} }, 'cli');
  try {
    const port = Number((await eventually(async () => /SMSC listening on 127\.0\.0\.1:(\d+)/.exec(out) ?? undefined, 20_000, 'listening line'))[1]);
    const inbox: InboundSms[] = [];
    t = transport(port);
    await t.start({ sms: (m) => inbox.push(m), report: () => undefined, link: () => undefined });
    assert.equal(t.connected, true);
    await t.send('+491700000002', 'STATUS', false);
    await eventually(async () => inbox.find((m) => m.text === 'PUMP IS OFF'), 5000, 'pump status');
    await eventually(async () => inbox.find((m) => m.from === '+491700000007' && /^POS \d+\.\d+,\d+\.\d+ \d+$/.test(m.text)), 5000, 'tracker position');
    await t.send('+491700000001', 'hello', false);
    await eventually(async () => (out.includes('SMS to +491700000001 from +491700000000: hello') ? true : undefined), 5000, 'handset line');
  } finally {
    await t?.stop();
    child.kill('SIGTERM');
  }
  assert.equal(await waitForExit(child), 0, out);
});
