/**
 * Every pack installs into a fresh platform: its rules pass the platform's own validation (so an
 * expression typo in a pack fails here, not in a demo), its devices get working tokens, and a
 * second install changes nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PACKS, getPack } from '../../src/scenarios/index.js';
import { installPack } from '../../src/scenarios/install.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { packApi } from './support.js';

let tp: TestPlatform;
before(async () => {
  tp = await startTestPlatform();
});
after(async () => {
  await tp.stop();
});

test('pack names are unique and each names models, profiles and its characteristic rule consistently', () => {
  assert.equal(new Set(PACKS.map((p) => p.name)).size, PACKS.length);
  for (const pack of PACKS) {
    for (const g of pack.devices) {
      assert.ok(pack.models[g.model], `${pack.name}: group ${g.prefix} plays model ${g.model}`);
      assert.ok(pack.profiles.some((p) => p.name === g.profile), `${pack.name}: group ${g.prefix} uses profile ${g.profile}`);
    }
    assert.ok(pack.rules.some((r) => r.name === pack.characteristic.rule), `${pack.name}: characteristic rule exists`);
  }
  assert.equal(getPack('no-such-pack'), undefined);
});

for (const pack of PACKS) {
  test(`${pack.name}: installs (profiles, devices with tokens, attributes, rules) and a second install changes nothing`, async () => {
    const api = await packApi(tp.baseUrl);
    const first = await installPack(api, pack, { devicesPerGroup: 2 });
    assert.equal(first.devices.length, pack.devices.length * 2);
    assert.equal(first.rules.length, pack.rules.length);
    assert.ok(first.rules.every((r) => r.created));
    for (const d of first.devices) assert.ok(d.token.length >= 8, `${d.name} has a token`);
    const withAttributes = first.devices.find((d) => d.group.serverAttributes);
    if (withAttributes) {
      const res = await tp.api.request<{ server: Record<string, { value: unknown }> }>('GET', `/api/devices/${withAttributes.id}/attributes?scope=server`);
      assert.equal(res.status, 200);
      for (const k of Object.keys(withAttributes.group.serverAttributes ?? {})) assert.ok(res.body.server[k], `attribute ${k} in ${JSON.stringify(res.body)}`);
      if (pack.name === 'smart-home') assert.equal(res.body.server.linkedSwitch?.value, 'light-1', '{n} is the device number');
    }
    const second = await installPack(api, pack, { devicesPerGroup: 2 });
    assert.deepEqual(
      second.devices.map((d) => [d.name, d.id]),
      first.devices.map((d) => [d.name, d.id]),
    );
    // Tokens cannot be read back (only their hashes are stored): existing devices get new ones.
    const post = (token: string): Promise<number> =>
      fetch(`${tp.baseUrl}/api/v1/${token}/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"t":1}' }).then((r) => r.status);
    assert.equal(await post(second.devices[0]!.token), 200);
    assert.equal(await post(first.devices[0]!.token), 401);
    assert.ok(second.rules.every((r) => !r.created));
  });
}
