/** Grant templates (issue 15): parsing with positions, escaping of substituted values, expansion, and the broker's coverage check. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TemplateError, expandTemplate, parseTemplate, validateTemplate, type TemplateValues } from '../../src/domain/mqtt-grants.js';
import { filterCovers, grantsAllow } from '../../src/adapters/transport/mqtt/grants-acl.js';

const values = (over: Partial<TemplateValues> = {}): TemplateValues => ({
  deviceName: 'light-1',
  deviceId: 'id-1',
  attributes: new Map([['site', 'berlin']]),
  groups: new Map([['switches', ['switch-1', 'switch-2']]]),
  ...over,
});

function positionOf(template: string): number {
  try {
    validateTemplate(template);
  } catch (err) {
    assert.ok(err instanceof TemplateError, String(err));
    return err.position;
  }
  assert.fail(`${template} was accepted`);
}

describe('grant templates', () => {
  it('expand the connecting device, its attributes and group members', () => {
    assert.deepEqual(expandTemplate(parseTemplate('devices/${device.name}/in'), values()), ['devices/light-1/in']);
    assert.deepEqual(expandTemplate(parseTemplate('sites/${device.attr.site}/${device.id}/#'), values()), ['sites/berlin/id-1/#']);
    assert.deepEqual(expandTemplate(parseTemplate('devices/${group:switches}/state'), values()), ['devices/switch-1/state', 'devices/switch-2/state']);
  });

  it('expand to nothing when an attribute is missing or a group is empty', () => {
    assert.deepEqual(expandTemplate(parseTemplate('sites/${device.attr.floor}/x'), values()), []);
    assert.deepEqual(expandTemplate(parseTemplate('devices/${group:none}/x'), values()), []);
  });

  it('escape substituted values: a name or attribute cannot add a level or a wildcard', () => {
    const hostile = values({ deviceName: 'a/#', attributes: new Map([['site', '+/x%']]), groups: new Map([['g', ['b/+']]]) });
    assert.deepEqual(expandTemplate(parseTemplate('devices/${device.name}/x'), hostile), ['devices/a%2F%23/x']);
    assert.deepEqual(expandTemplate(parseTemplate('sites/${device.attr.site}/x'), hostile), ['sites/%2B%2Fx%25/x']);
    assert.deepEqual(expandTemplate(parseTemplate('devices/${group:g}/x'), hostile), ['devices/b%2F%2B/x']);
  });

  it('refuse unknown variables, bad syntax and invalid filters with the position', () => {
    assert.equal(positionOf('devices/${device.nam}/x'), 8);
    assert.equal(positionOf('a/b/${device.name'), 4);
    assert.equal(positionOf('devices/${device.attr.}/x'), 8);
    assert.equal(positionOf('devices/a#/x'), 9);
    assert.equal(positionOf('devices/#/x'), 8);
    assert.equal(positionOf('devices/x+/y'), 9);
    assert.equal(positionOf('$SYS/#'), 0);
    assert.equal(positionOf('v1/devices/me/telemetry'), 0);
    assert.equal(positionOf(''), 0);
    assert.doesNotThrow(() => validateTemplate('devices/${group:switches}/+/#'));
  });
});

describe('grant coverage (the broker ACL)', () => {
  it('a granted filter covers only filters whose every topic it matches', () => {
    assert.ok(filterCovers('devices/switch-1/#', 'devices/switch-1/#'));
    assert.ok(filterCovers('devices/switch-1/#', 'devices/switch-1/state'));
    assert.ok(filterCovers('devices/switch-1/#', 'devices/switch-1/+/x'));
    assert.ok(filterCovers('devices/+/state', 'devices/switch-1/state'));
    assert.ok(filterCovers('devices/+/state', 'devices/+/state'));
    assert.ok(!filterCovers('devices/switch-1/state', 'devices/+/state'));
    assert.ok(!filterCovers('devices/switch-1/+', 'devices/switch-1/#'));
    assert.ok(!filterCovers('devices/switch-1/#', 'devices/#'));
    assert.ok(!filterCovers('devices/switch-1/state', 'devices/switch-1/state/x'));
    assert.ok(!filterCovers('#', '$SYS/x'));
  });

  it('publish is allowed when a granted publish filter matches the topic', () => {
    const granted = { publish: ['devices/switch-1/cmd'], subscribe: ['devices/switch-1/#'] };
    assert.ok(grantsAllow(granted, 'publish', 'devices/switch-1/cmd'));
    assert.ok(!grantsAllow(granted, 'publish', 'devices/switch-1/state'));
    assert.ok(grantsAllow(granted, 'subscribe', 'devices/switch-1/state'));
    assert.ok(!grantsAllow(granted, 'subscribe', 'devices/switch-2/state'));
  });
});
