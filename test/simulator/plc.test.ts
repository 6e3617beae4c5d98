/**
 * The PLC simulator as users run it (`continuum simulate plc`), polled by mbpoll: mapped values
 * are served in the map's types, a coil write and a register write are kept, and a bad map is
 * refused with the path of the bad entry.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, waitForExit } from '../support/platform.js';

const run = promisify(execFile);
let plc: ChildProcess;
let port: number;
let log = '';

before(async () => {
  plc = spawn(process.execPath, ['bin/continuum.mjs', 'simulate', 'plc', '--port', '0', '--map', 'examples/simulator/plc-map.yaml', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  plc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  port = await new Promise<number>((resolve, reject) => {
    let out = '';
    plc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      try {
        resolve((JSON.parse(out) as { port: number }).port);
      } catch {
        // not the whole JSON yet
      }
    });
    plc.once('exit', (code) => reject(new Error(`plc exited ${code}: ${log}`)));
  });
});

after(async () => {
  plc?.kill('SIGINT');
  if (plc) assert.equal(await waitForExit(plc), 0);
});

/** mbpoll once: the values it prints, by reference number. */
async function mbpoll(args: string[]): Promise<Map<number, string>> {
  const { stdout } = await run('mbpoll', ['-m', 'tcp', '-a', '1', '-1', '-p', String(port), ...args, '127.0.0.1']);
  return new Map([...stdout.matchAll(/^\[(\d+)\]:\s+(\S+)/gm)].map((m) => [Number(m[1]), m[2]!]));
}

test('holding registers, a float32 and input registers are served from the map', async () => {
  const holding = await mbpoll(['-t', '4', '-r', '1', '-c', '10']);
  assert.equal(holding.get(1), '1000');
  assert.equal(holding.get(3), '1200');
  assert.equal(holding.get(10), '1009');
  assert.equal(holding.get(6), '1005'); // pressure 0.5 with scale 0.1, offset -100
  const temp = Number((await mbpoll(['-t', '4:float', '-B', '-r', '11', '-c', '1'])).get(11));
  assert.ok(temp > 30 && temp < 60, `temperature ${temp}`);
  const input = await mbpoll(['-t', '3', '-r', '4', '-c', '1']);
  assert.equal(input.get(4), '42'); // 84 with scale 2
});

test('a coil write and a register write are kept and logged', async () => {
  assert.equal((await mbpoll(['-t', '0', '-r', '1', '-c', '1'])).get(1), '0');
  await run('mbpoll', ['-m', 'tcp', '-a', '1', '-1', '-p', String(port), '-t', '0', '-r', '1', '127.0.0.1', '1']);
  await run('mbpoll', ['-m', 'tcp', '-a', '1', '-1', '-p', String(port), '-t', '4', '-r', '3', '127.0.0.1', '4242']);
  assert.equal((await mbpoll(['-t', '0', '-r', '1', '-c', '1'])).get(1), '1');
  assert.equal((await mbpoll(['-t', '4', '-r', '3', '-c', '1'])).get(3), '4242');
  assert.match(log, /coil written \{"table":"coils","address":0,"value":true\}/);
  assert.match(log, /register written \{"table":"holding","address":2,"value":4242\}/);
});

test('a map with a bad entry is refused with its path', async () => {
  const file = join(tempDir(), 'bad.yaml');
  writeFileSync(file, 'holdingRegisters:\n  - { address: 70000, signal: { kind: constant, value: 1 } }\n');
  await assert.rejects(run(process.execPath, ['bin/continuum.mjs', 'simulate', 'plc', '--port', '0', '--map', file]), (err: { code?: number; stderr?: string }) => {
    assert.equal(err.code, 1);
    assert.match(err.stderr ?? '', /holdingRegisters\/0\/address/);
    return true;
  });
});
