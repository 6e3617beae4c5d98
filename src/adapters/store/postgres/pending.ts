/**
 * Store methods this adapter does not implement yet: each rejects with UNAVAILABLE naming the
 * method, so a deployment on PostgreSQL fails loudly at the feature, never silently.
 */
import { PlatformError } from '../../../domain/errors.js';

export function notYetImplemented<T>(names: readonly string[]): T {
  const out: Record<string, () => Promise<never>> = {};
  for (const name of names) {
    out[name] = () => Promise.reject(new PlatformError('UNAVAILABLE', `${name} is not implemented by the postgres store yet`));
  }
  return out as T;
}
