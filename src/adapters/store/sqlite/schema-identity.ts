/**
 * Migrations 11 and 12 (issue 13, node identity): what lets several nodes share the store
 * without losing each other's writes. Kept apart from schema.ts, which lists them.
 */

/**
 * Compare-and-set versions on alarms and commands (AlarmStore.updateAlarm, CommandStore.updateCommand),
 * the command lease (the node that sent a command, and until when its claim holds), and the
 * id sequences nodes reserve blocks of integer ids from (IdStore, services/ids.ts).
 * Existing rows start at version 1 with no claim: their lease counts as expired.
 */
export const V11_CAS_LEASES_IDS = `
  ALTER TABLE alarms ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE commands ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE commands ADD COLUMN claimed_by TEXT;
  ALTER TABLE commands ADD COLUMN lease_until INTEGER;

  CREATE TABLE id_sequences (
    name TEXT PRIMARY KEY,
    next INTEGER NOT NULL                        -- the first id not yet reserved
  ) STRICT, WITHOUT ROWID;
`;

/**
 * Device statuses carry the session epoch they were written under and the node holding the
 * session, so the newest session's status wins whichever node writes last (StatusStore).
 * Existing rows: epoch 0, older than any session.
 */
export const V12_STATUS_EPOCH = `
  ALTER TABLE device_status ADD COLUMN node_id TEXT;
  ALTER TABLE device_status ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
`;
