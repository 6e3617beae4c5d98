/**
 * The isolation matrix of issue 15: {sysadmin, tenant admin, operator, viewer, customer users of
 * C1 and C2, an operator API key, a device, a gateway} × {every operation of /api/openapi.json,
 * WebSocket subscribe, MQTT subscribe and publish} × {own, other customer, other tenant}. Prints
 * `cells=<N> leaks=<M>` and fails listing every leak with its principal, route and target.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { createFixtures } from '../support/isolation-fixtures.js';
import { runMqttMatrix, runWsMatrix } from '../support/isolation-live.js';
import { matrixOf, runRestMatrix, type CellResult, type Matrix } from '../support/isolation-matrix.js';

let tp: TestPlatform;
let m: Matrix;
const results: CellResult[] = [];

before(async () => {
  // The integration fixture points at the discard port of this machine, disabled: allowed, never reached.
  tp = await startTestPlatform({ config: { outbound: { allow: ['127.0.0.1:9'] } } });
  m = matrixOf(tp.baseUrl, await createFixtures(tp));
});
after(async () => {
  const leaks = results.filter((r) => r.leak);
  console.log(`cells=${results.length} leaks=${leaks.length}`);
  await tp.stop();
});

function report(cells: CellResult[]): string {
  return cells.map((c) => `${c.principal} ${c.route} [${c.target}] → ${c.status}: ${c.leak ?? c.error}`).join('\n');
}

test('WebSocket: foreign devices cannot be subscribed and their events never arrive', async () => {
  const cells = await runWsMatrix(m);
  results.push(...cells);
  const leaks = cells.filter((c) => c.leak);
  assert.equal(leaks.length, 0, `leaks:\n${report(leaks)}`);
});

test("MQTT: B's device, B's application and C2's device receive nothing A or C1 publish", async () => {
  const cells = await runMqttMatrix(m, tp.ports.mqtt);
  results.push(...cells);
  const leaks = cells.filter((c) => c.leak);
  assert.equal(leaks.length, 0, `leaks:\n${report(leaks)}`);
});

// Last: its own-target writes rotate credentials and delete entities the live cells use.
test('REST: every OpenAPI operation × principal × target leaks nothing', async () => {
  const cells = await runRestMatrix(m);
  results.push(...cells);
  const slow = [...cells].sort((a, b) => (b.ms ?? 0) - (a.ms ?? 0)).slice(0, 5);
  console.log(`slowest: ${slow.map((c) => `${c.route} ${c.ms}ms`).join('; ')}`);
  const errors = cells.filter((c) => c.error);
  if (errors.length > 0) console.log(`server errors (${errors.length}):\n${report(errors)}`);
  const leaks = cells.filter((c) => c.leak);
  assert.equal(leaks.length, 0, `leaks:\n${report(leaks)}`);
});
