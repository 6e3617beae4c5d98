/** In-memory commands and outbox; the same answers and errors as the SQLite part. */
import { PlatformError } from '../../../domain/errors.js';
import type { CommandQuery, CommandStore, Page, StoredCommand } from '../../../ports.js';
import { makeCommand, newestFirst, oldestFirst, PENDING_COMMAND_STATUSES, staleWrite } from '../actions-shared.js';
import { clampLimit } from '../shared.js';

export interface MemoryCommands extends CommandStore {
  deleteDevice(deviceId: string): void;
}

export function createMemoryCommands(): MemoryCommands {
  const commands = new Map<string, StoredCommand>();

  return {
    async insertCommand(command: StoredCommand): Promise<void> {
      const c = makeCommand(command);
      if (commands.has(c.id)) throw new PlatformError('CONFLICT', `command ${c.id}`);
      commands.set(c.id, c);
    },

    async updateCommand(command: StoredCommand): Promise<void> {
      const c = makeCommand(command);
      const stored = commands.get(c.id);
      if (!stored) throw new PlatformError('COMMAND_NOT_FOUND', c.id);
      if (stored.version !== c.version - 1) throw staleWrite('command', c.id);
      commands.set(c.id, c);
    },

    async getCommand(id: string): Promise<StoredCommand | undefined> {
      const c = commands.get(id);
      return c && makeCommand(c);
    },

    async listCommands(q: CommandQuery): Promise<Page<StoredCommand>> {
      const matches = newestFirst([...commands.values()]).filter(
        (c) =>
          c.tenantId === q.tenantId &&
          (q.deviceId === undefined || c.deviceId === q.deviceId) &&
            (q.deviceIds === undefined || q.deviceIds.includes(c.deviceId)) &&
          (q.statuses === undefined || q.statuses.includes(c.status)),
      );
      const offset = clampLimit(q.offset);
      return { items: matches.slice(offset, offset + clampLimit(q.limit)).map(makeCommand), total: matches.length };
    },

    async pendingCommands(deviceId?: string): Promise<StoredCommand[]> {
      return oldestFirst([...commands.values()])
        .filter((c) => c.persistent && PENDING_COMMAND_STATUSES.includes(c.status) && (deviceId === undefined || c.deviceId === deviceId))
        .map(makeCommand);
    },

    deleteDevice(deviceId: string): void {
      for (const [id, c] of commands) if (c.deviceId === deviceId) commands.delete(id);
    },
  };
}
