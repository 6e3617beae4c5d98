/** Row shapes and mappers both SQL stores (postgres/, sqlite/) share: their columns have the same names. */
import type { TotpEnrolment } from '../../../ports.js';

export interface TotpRow {
  user_id: string;
  secret: string;
  confirmed_at: number | null;
  last_step: number;
  recovery_hashes: string;
}

export const toTotp = (r: TotpRow): TotpEnrolment => ({
  userId: r.user_id,
  secret: r.secret,
  ...(r.confirmed_at !== null ? { confirmedAt: r.confirmed_at } : {}),
  lastStep: r.last_step,
  recoveryHashes: JSON.parse(r.recovery_hashes) as string[],
});
