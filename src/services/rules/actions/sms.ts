/** Notify by SMS through the configured SMPP SMSC (config notify.smpp). */
import { Type } from '@sinclair/typebox';
import { defineAction, missing } from './types.js';

export const smsAction = defineAction({
  type: 'sms',
  title: 'Send SMS',
  description:
    'Sends an SMS through the SMSC configured in notify.smpp (SMPP 3.4). GSM 7-bit when the text allows, UCS2 otherwise; long texts go as concatenated parts.',
  configSchema: Type.Object(
    {
      to: Type.String({ minLength: 1, maxLength: 64, description: 'phone number, "+" and digits; may use ${…} templates' }),
      text: Type.String({ minLength: 1, maxLength: 1_600, description: 'may use ${…} templates' }),
      from: Type.Optional(Type.String({ minLength: 1, maxLength: 21, description: 'sender number or name (≤ 11 characters); default notify.smpp.sourceAddr' })),
    },
    { additionalProperties: false },
  ),
  defaults: {},
  check(p) {
    // Templated numbers are checked after rendering, by the sender.
    if (!p.to.includes('${') && !/^\+?\d{1,20}$/.test(p.to.trim())) throw new Error(`to "${p.to}" is not a phone number`);
  },
  async run(p, _ctx, deps) {
    if (!deps.sms) throw missing('SMS (configure notify.smpp)');
    const result = await deps.sms.send({ to: p.to.trim(), text: p.text, ...(p.from ? { from: p.from } : {}) });
    return { to: p.to.trim(), messageId: result.messageId, parts: result.parts };
  },
});
