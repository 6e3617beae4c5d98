/** Notify by e-mail through the configured SMTP server (config notify.smtp). */
import { Type } from '@sinclair/typebox';
import { defineAction, missing } from './types.js';

export const emailAction = defineAction({
  type: 'email',
  title: 'Send e-mail',
  description: 'Sends a plain-text e-mail through the SMTP server configured in notify.smtp.',
  configSchema: Type.Object(
    {
      to: Type.Union([Type.String({ minLength: 3, maxLength: 320 }), Type.Array(Type.String({ minLength: 3, maxLength: 320 }), { minItems: 1, maxItems: 50 })]),
      subject: Type.String({ minLength: 1, maxLength: 998, description: 'may use ${…} templates' }),
      text: Type.String({ maxLength: 100_000, description: 'may use ${…} templates' }),
    },
    { additionalProperties: false },
  ),
  defaults: {},
  async run(p, _ctx, deps) {
    if (!deps.email) throw missing('e-mail (configure notify.smtp)');
    const to = Array.isArray(p.to) ? p.to : p.to.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    await deps.email.send({ to, subject: p.subject, text: p.text });
    return { to };
  },
});
