/** The `sms` rule action: validated on save, sent through the SmsSender port when run. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMemorySmsSender } from '../../../src/adapters/notify/memory/sms.js';
import { RuleError } from '../../../src/domain/rules/compile.js';
import { ActionCatalog, type ActionContext } from '../../../src/services/rules/actions/index.js';
import { silent } from './fixture.js';

const ctx = { tenantId: 't', deviceId: 'd', deviceName: 'vend-042', ruleId: 'r', ruleName: 'Restock', ts: 0 } as unknown as ActionContext;

describe('sms action', () => {
  const catalog = new ActionCatalog();

  it('is listed with its schema, and checks parameters when a rule is saved', () => {
    assert.equal(catalog.get('sms')?.title, 'Send SMS');
    catalog.check({ type: 'sms', to: '+15550100', text: 'stock ${stock}' }, 'actions[0]');
    catalog.check({ type: 'sms', to: '${supplierPhone}', text: 'x' }, 'actions[0]');
    assert.throws(() => catalog.check({ type: 'sms', to: 'supplier', text: 'x' }, 'actions[1]'), (e) => e instanceof RuleError && /not a phone number/.test(e.message));
    assert.throws(() => catalog.check({ type: 'sms', to: '+15550100' }, 'actions[1]'), RuleError);
    assert.throws(() => catalog.check({ type: 'sms', to: '+15550100', text: 'x', subject: 'no' }, 'actions[1]'), RuleError);
  });

  it('sends the rendered message through the SmsSender port', async () => {
    const sms = createMemorySmsSender();
    const out = await catalog.run({ type: 'sms', to: ' +15550100 ', text: 'vend-042: 4 left', from: 'VendCo' }, ctx, { logger: silent, sms });
    assert.deepEqual(out, { to: '+15550100', messageId: 'mem-1', parts: 1 });
    assert.deepEqual(sms.sent, [{ to: '+15550100', text: 'vend-042: 4 left', from: 'VendCo', messageId: 'mem-1' }]);
  });

  it('fails clearly when no SMSC is configured', async () => {
    await assert.rejects(catalog.run({ type: 'sms', to: '+15550100', text: 'x' }, ctx, { logger: silent }), /notify\.smpp/);
  });
});
