/**
 * Notification senders the rule actions use and adapters/notify/ implements. (The SMS sender is
 * in ports.ts.)
 */

/** An outgoing e-mail (plain text). */
export interface EmailMessage {
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
}

export interface EmailSender {
  send(message: EmailMessage): Promise<void>;
}
