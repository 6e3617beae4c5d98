/** Row shapes and mappers both SQL stores (postgres/, sqlite/) share: their columns have the same names. */
import type { OtaSigningKey } from '../../../domain/ota-signing.js';

export interface OtaKeyRow {
  readonly id: string;
  readonly tenant_id: string;
  readonly name: string;
  readonly public_key: string;
  /** A PostgreSQL bigint arrives as a string; SQLite gives a number. */
  readonly created_at: string | number;
}

export const toOtaKey = (r: OtaKeyRow): OtaSigningKey => ({ id: r.id, tenantId: r.tenant_id, name: r.name, publicKey: r.public_key, createdAt: Number(r.created_at) });
