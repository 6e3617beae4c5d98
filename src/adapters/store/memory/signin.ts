/** OIDC identities and TOTP enrolments in Maps, with the SQLite store's answers. */
import type { SigninStore, TotpEnrolment, UserIdentity } from '../../../ports.js';
import { userNotFound } from '../shared.js';

export function createMemorySignin(userExists: (id: string) => Promise<boolean>): SigninStore & { forgetUser(id: string): void } {
  const identities = new Map<string, UserIdentity>();
  const totp = new Map<string, TotpEnrolment>();
  const key = (issuer: string, subject: string): string => JSON.stringify([issuer, subject]);

  return {
    forgetUser(id: string): void {
      totp.delete(id);
      for (const [k, v] of identities) if (v.userId === id) identities.delete(k);
    },

    async findIdentity(issuer: string, subject: string): Promise<UserIdentity | undefined> {
      const found = identities.get(key(issuer, subject));
      return found && { ...found };
    },

    async linkIdentity(identity: UserIdentity): Promise<void> {
      if (!(await userExists(identity.userId))) throw userNotFound(identity.userId);
      identities.set(key(identity.issuer, identity.subject), { ...identity });
    },

    async getTotp(userId: string): Promise<TotpEnrolment | undefined> {
      const e = totp.get(userId);
      return e && { ...e, recoveryHashes: [...e.recoveryHashes] };
    },

    async putTotp(e: TotpEnrolment): Promise<void> {
      if (!(await userExists(e.userId))) throw userNotFound(e.userId);
      totp.set(e.userId, { ...e, recoveryHashes: [...e.recoveryHashes] });
    },

    async deleteTotp(userId: string): Promise<boolean> {
      return totp.delete(userId);
    },

    async useTotpStep(userId: string, step: number): Promise<boolean> {
      const e = totp.get(userId);
      if (!e || e.lastStep >= step) return false;
      totp.set(userId, { ...e, lastStep: step });
      return true;
    },

    async useRecoveryCode(userId: string, codeHash: string): Promise<boolean> {
      const e = totp.get(userId);
      if (!e?.recoveryHashes.includes(codeHash)) return false;
      totp.set(userId, { ...e, recoveryHashes: e.recoveryHashes.filter((h) => h !== codeHash) });
      return true;
    },
  };
}
