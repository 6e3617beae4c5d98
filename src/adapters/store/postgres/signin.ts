/** OIDC identities linked to users and TOTP enrolments (rows go with their user by ON DELETE CASCADE). */
import type pg from 'pg';
import type { SigninStore, UserIdentity } from '../../../ports.js';
import { userNotFound } from '../shared.js';
import { toTotp, type TotpRow } from '../rows/signin.js';
import { inTx, isForeignKeyViolation, one, run } from './db.js';

export function createPgSignin(pool: pg.Pool): SigninStore {
  return {
    async findIdentity(issuer, subject): Promise<UserIdentity | undefined> {
      const r = await one<{ issuer: string; subject: string; user_id: string; created_at: number }>(
        pool,
        'SELECT issuer, subject, user_id, created_at FROM user_identities WHERE issuer = $1 AND subject = $2',
        [issuer, subject],
      );
      return r && { issuer: r.issuer, subject: r.subject, userId: r.user_id, createdAt: r.created_at };
    },
    async linkIdentity(i) {
      try {
        await pool.query(
          `INSERT INTO user_identities (issuer, subject, user_id, created_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (issuer, subject) DO UPDATE SET user_id = excluded.user_id, created_at = excluded.created_at`,
          [i.issuer, i.subject, i.userId, i.createdAt],
        );
      } catch (err) {
        if (isForeignKeyViolation(err)) throw userNotFound(i.userId);
        throw err;
      }
    },
    async getTotp(userId) {
      const r = await one<TotpRow>(pool, 'SELECT user_id, secret, confirmed_at, last_step, recovery_hashes FROM user_totp WHERE user_id = $1', [userId]);
      return r && toTotp(r);
    },
    async putTotp(e) {
      try {
        await pool.query(
          `INSERT INTO user_totp (user_id, secret, confirmed_at, last_step, recovery_hashes) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, confirmed_at = excluded.confirmed_at,
             last_step = excluded.last_step, recovery_hashes = excluded.recovery_hashes`,
          [e.userId, e.secret, e.confirmedAt ?? null, e.lastStep, JSON.stringify(e.recoveryHashes)],
        );
      } catch (err) {
        if (isForeignKeyViolation(err)) throw userNotFound(e.userId);
        throw err;
      }
    },
    async deleteTotp(userId) {
      return (await run(pool, 'DELETE FROM user_totp WHERE user_id = $1', [userId])) > 0;
    },
    async useTotpStep(userId, step) {
      // One conditional update: two requests racing with one code, one of them wins.
      return (await run(pool, 'UPDATE user_totp SET last_step = $2 WHERE user_id = $1 AND last_step < $2', [userId, step])) > 0;
    },
    async useRecoveryCode(userId, codeHash) {
      return inTx(pool, async (c) => {
        const r = await one<{ recovery_hashes: string }>(c, 'SELECT recovery_hashes FROM user_totp WHERE user_id = $1 FOR UPDATE', [userId]);
        if (!r) return false;
        const hashes = JSON.parse(r.recovery_hashes) as string[];
        const at = hashes.indexOf(codeHash);
        if (at < 0) return false;
        hashes.splice(at, 1);
        await c.query('UPDATE user_totp SET recovery_hashes = $2 WHERE user_id = $1', [userId, JSON.stringify(hashes)]);
        return true;
      });
    },
  };
}
