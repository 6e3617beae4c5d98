/** Scenario test support: the installer's REST client (the CLI's ApiClient) signed in to a test platform. */
import { ApiClient } from '../../src/protocols/management-api/client.js';
import { ADMIN } from '../support/platform.js';

export async function packApi(baseUrl: string): Promise<ApiClient> {
  const { token } = await new ApiClient(baseUrl, {}).request<{ token: string }>('POST', '/api/auth/login', { json: ADMIN });
  return new ApiClient(baseUrl, { authorization: `Bearer ${token}` });
}
