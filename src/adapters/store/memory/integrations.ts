/** Integrations and their export buffers in memory (`--store memory`; lost with the process). */
import { PlatformError } from '../../../domain/errors.js';
import type { ExportRecord, Integration } from '../../../domain/integrations.js';
import type { IntegrationStore } from '../../../ports.js';

export function createMemoryIntegrations(): IntegrationStore {
  const integrations = new Map<string, Integration>();
  const buffers = new Map<string, { next: number; records: ExportRecord[] }>();
  const copy = (i: Integration): Integration => structuredClone(i);
  return {
    async listIntegrations(tenantId) {
      return [...integrations.values()]
        .filter((i) => tenantId === undefined || i.tenantId === tenantId)
        .sort((a, b) => a.name.localeCompare(b.name))
        .map(copy);
    },
    async getIntegration(id) {
      const i = integrations.get(id);
      return i ? copy(i) : undefined;
    },
    async insertIntegration(i) {
      for (const other of integrations.values()) {
        if (other.tenantId === i.tenantId && other.name === i.name) throw new PlatformError('CONFLICT', `an integration named ${i.name} exists`);
      }
      integrations.set(i.id, copy(i));
    },
    async deleteIntegration(id) {
      buffers.delete(id);
      return integrations.delete(id);
    },
    async enqueueExports(id, records, max) {
      let buffer = buffers.get(id);
      if (!buffer) buffers.set(id, (buffer = { next: 1, records: [] }));
      for (const r of records) buffer.records.push({ ...r, seq: buffer.next++ });
      const over = buffer.records.length - max;
      if (over <= 0) return 0;
      buffer.records.splice(0, over);
      return over;
    },
    async readExports(id, limit) {
      return (buffers.get(id)?.records ?? []).slice(0, limit);
    },
    async ackExports(id, upto) {
      const buffer = buffers.get(id);
      if (!buffer) return;
      const keep = buffer.records.findIndex((r) => r.seq > upto);
      buffer.records.splice(0, keep < 0 ? buffer.records.length : keep);
    },
    async exportBacklog(id) {
      const records = buffers.get(id)?.records ?? [];
      return { count: records.length, oldestEnqueuedAt: records[0]?.enqueuedAt };
    },
  };
}
