/**
 * Every pack has a runnable M2M twin (issue 19, item 4), and its pieces agree: the twin's
 * children are devices of its shipped edge config, announced with their profile as `type` (so a
 * child the gateway creates on first sight gets the profile the twin's rules are bound to), the
 * profiles exist in the twin, and the characteristic names a child, a rule and a command of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasField } from '../../src/apps/m2m/field.js';
import { loadEdgeConfig } from '../../src/edge/config.js';
import { PACKS } from '../../src/scenarios/index.js';

/** Any value for every variable the twins' configs read (the field side sets them when it runs). */
const ENV = {
  CONTINUUM_EDGE_URL: 'mqtt://127.0.0.1:1',
  CONTINUUM_GATEWAY_TOKEN: 't',
  METER_SERIAL: '/dev/null',
  MODEM_SERIAL: '/dev/null',
  MONITOR_SERIAL: '/dev/null',
  BACNET_PORT: '0',
  BACNET_INTERFACE: '127.0.0.1',
  BACNET_DEVICE_ADDRESS: '127.0.0.1:47808',
  SMSC_HOST: '127.0.0.1',
  SMSC_PORT: '2775',
  PLC_HOST: '127.0.0.1',
  PLC_PORT: '502',
};

test('every scenario pack has a runnable M2M twin with a field side', () => {
  for (const pack of PACKS) {
    assert.ok(pack.twin, `${pack.name} has a twin`);
    assert.ok(hasField(pack.name), `${pack.name} has simulated field devices`);
  }
});

for (const pack of PACKS) {
  const twin = pack.twin;
  if (!twin) continue;
  test(`${pack.name}: the twin's children, profiles and characteristic match ${twin.edgeConfig}`, () => {
    const config = loadEdgeConfig(twin.edgeConfig, ENV);
    const devices = new Map(config.connectors.flatMap((c) => (c.devices as readonly { name?: string; type?: string }[]).map((d) => [d.name, d])));
    const profiles = new Set(twin.profiles.map((p) => p.name));
    for (const child of twin.children) {
      assert.ok(profiles.has(child.profile), `${child.name}: profile ${child.profile} is one of the twin's`);
      assert.equal(devices.get(child.name)?.type, child.profile, `${child.name} is announced with type ${child.profile}`);
    }
    for (const rule of twin.rules) assert.ok(rule.profile === undefined || profiles.has(rule.profile), `rule "${rule.name}" is bound to a twin profile`);
    const { characteristic } = twin;
    assert.ok(twin.children.some((c) => c.name === characteristic.device), 'characteristic device is a child');
    if (characteristic.rule !== undefined) {
      const rule = twin.rules.find((r) => r.name === characteristic.rule);
      assert.ok(rule, `characteristic rule "${characteristic.rule}" is a twin rule`);
      if (characteristic.command !== undefined) assert.ok(rule.actions.some((a) => a.type === 'command' && a.method === characteristic.command), 'the rule sends the command');
    }
  });
}
