import Database from 'better-sqlite3';

/**
 * Makes the next deletion of device `id` fail after its telemetry part ran: a rule_state row for
 * it and a trigger refusing its deletion, set from another connection (as an operator could).
 */
export function failNextDeviceDeletion(file: string, id: string): void {
  const other = new Database(file);
  try {
    other.prepare("INSERT INTO rule_state (rule_id, device_id, state, updated_at) VALUES ('r', ?, '{}', 0)").run(id);
    other.exec("CREATE TRIGGER held BEFORE DELETE ON rule_state BEGIN SELECT RAISE(ABORT, 'held'); END");
  } finally {
    other.close();
  }
}
