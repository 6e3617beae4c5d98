import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inboundTopic, passesFilter, renderTemplate } from '../../src/domain/integrations.js';

const vars = { tenantId: 't1', deviceId: 'd1', deviceName: 'pump 1/a+b#c.d', event: 'telemetry' };

describe('integration templates and filters', () => {
  it('render both spellings; a device name cannot add levels or wildcards', () => {
    assert.equal(renderTemplate('plant/{deviceName}/telemetry', vars), 'plant/pump_1_a_b_c_d/telemetry');
    assert.equal(renderTemplate('continuum/${deviceName}/${event}', { ...vars, deviceName: 'm1' }), 'continuum/m1/telemetry');
    assert.equal(renderTemplate('{event}.{tenant}.{deviceId}', vars), 'telemetry.t1.d1');
    assert.equal(renderTemplate('x/{deviceName}', { ...vars, deviceName: '' }), 'x/_');
  });

  it('inbound: one {deviceName} level becomes +, and topics map back to the name', () => {
    const t = inboundTopic('plant/{deviceName}/up');
    assert.equal(t.filter, 'plant/+/up');
    assert.equal(t.deviceName('plant/m7/up'), 'm7');
    assert.equal(t.deviceName('plant/m7/down'), undefined);
    assert.equal(t.deviceName('plant/m7/up/more'), undefined);
    assert.equal(t.deviceName('plant//up'), undefined);
    assert.throws(() => inboundTopic('plant/up'));
    assert.throws(() => inboundTopic('plant/{deviceName}/#'));
  });

  it('filters by event, device and profile', () => {
    assert.equal(passesFilter({}, 'alarm', 'd', undefined), true);
    assert.equal(passesFilter({ events: ['telemetry'] }, 'alarm', 'd', 'p'), false);
    assert.equal(passesFilter({ devices: ['d'] }, 'alarm', 'e', 'p'), false);
    assert.equal(passesFilter({ profiles: ['p'] }, 'alarm', 'd', 'p'), true);
    assert.equal(passesFilter({ profiles: ['p'] }, 'alarm', 'd', undefined), false);
  });
});
