/** OIDC identities and TOTP enrolments (migration 20). */
import type { SigninStore, TotpEnrolment, UserIdentity } from '../../../ports.js';
import { userNotFound } from '../shared.js';
import { toTotp, type TotpRow } from '../rows/signin.js';
import type { Db } from './sql.js';

export function createSqliteSignin(db: Db): SigninStore {
  const s = {
    userExists: db.prepare('SELECT 1 FROM users WHERE id = ?').pluck(),
    identity: db.prepare<[string, string], { issuer: string; subject: string; user_id: string; created_at: number }>(
      'SELECT issuer, subject, user_id, created_at FROM user_identities WHERE issuer = ? AND subject = ?',
    ),
    link: db.prepare(
      `INSERT INTO user_identities (issuer, subject, user_id, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (issuer, subject) DO UPDATE SET user_id = excluded.user_id, created_at = excluded.created_at`,
    ),
    totp: db.prepare<[string], TotpRow>('SELECT user_id, secret, confirmed_at, last_step, recovery_hashes FROM user_totp WHERE user_id = ?'),
    putTotp: db.prepare(
      `INSERT INTO user_totp (user_id, secret, confirmed_at, last_step, recovery_hashes) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, confirmed_at = excluded.confirmed_at,
         last_step = excluded.last_step, recovery_hashes = excluded.recovery_hashes`,
    ),
    deleteTotp: db.prepare('DELETE FROM user_totp WHERE user_id = ?'),
    useStep: db.prepare('UPDATE user_totp SET last_step = ? WHERE user_id = ? AND last_step < ?'),
    setRecovery: db.prepare('UPDATE user_totp SET recovery_hashes = ? WHERE user_id = ? AND recovery_hashes = ?'),
  };

  // Read and write in one transaction: two requests racing with one code use it once.
  const useRecovery = db.transaction((userId: string, codeHash: string): boolean => {
    const row = s.totp.get(userId);
    if (!row) return false;
    const hashes = JSON.parse(row.recovery_hashes) as string[];
    const at = hashes.indexOf(codeHash);
    if (at < 0) return false;
    hashes.splice(at, 1);
    return s.setRecovery.run(JSON.stringify(hashes), userId, row.recovery_hashes).changes > 0;
  });

  return {
    async findIdentity(issuer: string, subject: string): Promise<UserIdentity | undefined> {
      const r = s.identity.get(issuer, subject);
      return r && { issuer: r.issuer, subject: r.subject, userId: r.user_id, createdAt: r.created_at };
    },

    async linkIdentity(identity: UserIdentity): Promise<void> {
      if (!s.userExists.get(identity.userId)) throw userNotFound(identity.userId);
      s.link.run(identity.issuer, identity.subject, identity.userId, identity.createdAt);
    },

    async getTotp(userId: string): Promise<TotpEnrolment | undefined> {
      const r = s.totp.get(userId);
      return r && toTotp(r);
    },

    async putTotp(e: TotpEnrolment): Promise<void> {
      if (!s.userExists.get(e.userId)) throw userNotFound(e.userId);
      s.putTotp.run(e.userId, e.secret, e.confirmedAt ?? null, e.lastStep, JSON.stringify(e.recoveryHashes));
    },

    async deleteTotp(userId: string): Promise<boolean> {
      return s.deleteTotp.run(userId).changes > 0;
    },

    async useTotpStep(userId: string, step: number): Promise<boolean> {
      return s.useStep.run(step, userId, step).changes > 0;
    },

    async useRecoveryCode(userId: string, codeHash: string): Promise<boolean> {
      return useRecovery(userId, codeHash);
    },
  };
}
