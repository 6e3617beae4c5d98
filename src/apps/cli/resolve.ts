/**
 * Finding a device or profile the operator named: by id or by exact name. Commands take either,
 * because people remember names and scripts keep ids.
 */
import { ApiError, CliError, type ApiClient } from '../../protocols/management-api/client.js';
import type { Schemas } from '../../protocols/management-api/typed-client.js';

/** Exit code when the named device or profile does not exist, so scripts can tell it from other failures. */
export const EXIT_NOT_FOUND = 3;

/** A device as GET /api/devices/{id} answers it. */
export type DeviceRef = Schemas['Device'];
/** A profile as GET /api/profiles answers it. */
export type ProfileRef = Schemas['Profile'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PAGE = 1000;

function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404;
}

/** A device given by id or by exact name; a missing one is a CliError with EXIT_NOT_FOUND. */
export async function resolveDevice(client: ApiClient, ref: string): Promise<DeviceRef> {
  if (UUID.test(ref)) {
    try {
      return await client.call('getDevice', { params: { id: ref } });
    } catch (err) {
      // Not an id after all (a device may be named like one): try it as a name.
      if (!isNotFound(err)) throw err;
    }
  }
  // The search matches names and labels as substrings, so walk its pages for the exact name.
  for (let offset = 0; ; offset += PAGE) {
    const page = await client.call('listDevices', { query: { search: ref, limit: PAGE, offset } });
    const found = page.items.find((d) => d.name === ref);
    if (found) return found;
    if (page.items.length < PAGE || offset + PAGE >= page.total) break;
  }
  throw new CliError(`no device with id or name "${ref}"`, EXIT_NOT_FOUND);
}

/** A profile given by id or by exact name; a missing one is a CliError with EXIT_NOT_FOUND. */
export async function resolveProfile(client: ApiClient, ref: string): Promise<ProfileRef> {
  const { items } = await client.call('listProfiles');
  const found = items.find((p) => p.id === ref) ?? items.find((p) => p.name === ref);
  if (!found) throw new CliError(`no profile with id or name "${ref}" (continuum profile list shows them)`, EXIT_NOT_FOUND);
  return found;
}
