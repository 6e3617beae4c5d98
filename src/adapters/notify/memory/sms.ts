/** SMS sender that keeps what it was asked to send: tests and development without an SMSC. */
import type { SmsMessage, SmsSender } from '../../../ports.js';

export interface MemorySmsSender extends SmsSender {
  readonly sent: (SmsMessage & { readonly messageId: string })[];
}

export function createMemorySmsSender(): MemorySmsSender {
  const sent: (SmsMessage & { messageId: string })[] = [];
  return {
    sent,
    send(message) {
      const messageId = `mem-${sent.length + 1}`;
      sent.push({ ...message, messageId });
      return Promise.resolve({ messageId, parts: 1 });
    },
  };
}
