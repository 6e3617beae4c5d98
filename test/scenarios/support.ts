/** Scenario test support: the installer's REST client over the test platform's API client. */
import type { ApiClient } from '../support/platform.js';
import type { PackApi } from '../../src/scenarios/install.js';

export function packApi(api: ApiClient): PackApi {
  return {
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await api.request<T>(method, path, body);
      if (res.status >= 300) {
        const e = res.body as { error?: string; message?: string } | undefined;
        throw new Error(`${method} ${path}: ${res.status} ${e?.error ?? ''} ${e?.message ?? JSON.stringify(res.body)}`);
      }
      return res.body;
    },
  };
}
