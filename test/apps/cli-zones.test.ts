/** `continuum zone create|list|delete` against a real platform. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../support/cli.js';
import { ADMIN, startTestPlatform, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
let env: Record<string, string>;
before(async () => {
  tp = await startTestPlatform();
  env = { CONTINUUM_URL: tp.baseUrl, CONTINUUM_EMAIL: ADMIN.email, CONTINUUM_PASSWORD: ADMIN.password };
});
after(async () => {
  await tp.stop();
});

test('zone create (circle, polygon for a device), list, delete by name; a bad polygon is refused', async () => {
  await tp.api.createDevice('cli-van');
  const circle = await runCli(['zone', 'create', 'depot', '--circle', '52.52,13.405,150', '--json'], env);
  assert.equal(circle.code, 0, circle.stderr);
  assert.deepEqual((JSON.parse(circle.stdout) as { geometry: unknown }).geometry, { type: 'Point', coordinates: [13.405, 52.52], radius: 150 });
  const polygon = await runCli(['zone', 'create', 'yard', '--device', 'cli-van', '--polygon', '52.52,13.40 52.53,13.40 52.53,13.42', '--margin', '5'], env);
  assert.equal(polygon.code, 0, polygon.stderr);
  const list = await runCli(['zone', 'list'], env);
  assert.match(list.stdout, /depot .*circle 52\.52,13\.405 r=150 m/);
  assert.match(list.stdout, /yard .*device .*polygon, 3 corners.*5 m/);
  const bad = await runCli(['zone', 'create', 'line', '--polygon', '52.52,13.40 52.53,13.40'], env);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /four positions/);
  assert.equal((await runCli(['zone', 'delete', 'depot'], env)).code, 0);
  assert.doesNotMatch((await runCli(['zone', 'list'], env)).stdout, /depot/);
});
