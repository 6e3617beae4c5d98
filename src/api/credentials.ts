/** Device credentials (GET/PUT /devices/{id}/credentials) and bulk CSV import. */
import { Type } from '@sinclair/typebox';
import { PlatformError } from '../domain/errors.js';
import type { CredentialsInput } from '../services/registry.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { CredentialInput, CredentialView, IdParams, credentialView, errorResponses, ref } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

/** An import request may be far larger than ordinary bodies: 10,000 rows are ~1 MB. */
export const IMPORT_BODY_LIMIT = 64 * 1024 * 1024;

function toRegistryInput(body: CredentialInput): CredentialsInput {
  switch (body.type) {
    case 'ACCESS_TOKEN':
      return body.token !== undefined ? { accessToken: body.token } : {};
    case 'MQTT_BASIC':
      return { basic: { clientId: body.clientId, username: body.username, password: body.password } };
    case 'X509_CERTIFICATE':
      return { certificateFingerprint: body.fingerprint };
  }
}

const ImportResultSchema = Type.Object({
  created: Type.Integer(),
  devices: Type.Array(
    Type.Object({
      row: Type.Integer(),
      name: Type.String(),
      id: Type.String(),
      accessToken: Type.Optional(Type.String({ description: 'a token the platform generated (no accessToken column): shown this once' })),
    }),
    { description: 'the devices created, in row order' },
  ),
  errors: Type.Array(
    Type.Object({
      row: Type.Integer({ description: 'line of the CSV the row starts on; the header is line 1' }),
      name: Type.Optional(Type.String()),
      message: Type.String(),
    }),
  ),
});

export const credentialRoutes: ApiPlugin<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { registry } = deps;

  app.get(
    '/devices/:id/credentials',
    {
      schema: {
        tags: ['devices'],
        operationId: 'getDeviceCredentials', summary: "A device's credentials (admins only; access tokens as a hint, password hashes never)",
        params: IdParams,
        response: { 200: Type.Array(ref(CredentialView)), ...errorResponses },
      },
    },
    async (request) => {
      const device = await registry.requireDevice(request.params.id, principalOf(request).tenantId);
      return (await registry.getCredentials(device.id)).map((c) => credentialView(c));
    },
  );

  app.put(
    '/devices/:id/credentials',
    {
      schema: {
        tags: ['devices'],
        operationId: 'setDeviceCredentials', summary: 'Set the credential of one type (ACCESS_TOKEN without token generates one)',
        description:
          'Rotates the credential of that type: the old one stops working at once. For ACCESS_TOKEN the answer carries the new ' +
          'token in full (`token`); this is the only time it is shown, GET answers its hint only.',
        params: IdParams,
        body: CredentialInput,
        response: { 200: ref(CredentialView), ...errorResponses },
      },
    },
    async (request) => {
      const device = await registry.requireDevice(request.params.id, principalOf(request).tenantId);
      const { credential, accessToken } = await registry.setCredentials(device.id, toRegistryInput(request.body));
      return credentialView(credential, accessToken);
    },
  );

  app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT }, (_req, body, done) => {
    done(null, body);
  });

  app.post(
    '/devices/import',
    {
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: {
        tags: ['devices'],
        operationId: 'importDevices', summary: 'Create devices from CSV (text/csv body, or JSON {"csv": "..."})',
        description:
          'Header row required. Columns: name (required), label, profile (profile name), type (gateway: true/false), ' +
          'accessToken, clientId, username, password, certificateFingerprint. Valid rows are created; every other row is ' +
          'reported with its line number. The answer lists the created devices with their ids, and the access tokens the ' +
          'platform generated (rows without credentials): the only time they are shown.',
        body: Type.Union([Type.String(), Type.Object({ csv: Type.String() }, { additionalProperties: false })]),
        response: { 200: ImportResultSchema, ...errorResponses },
      },
    },
    async (request) => {
      const body = request.body;
      const csv = typeof body === 'string' ? body : body.csv;
      if (csv.trim().length === 0) throw new PlatformError('BAD_REQUEST', 'empty CSV');
      const started = Date.now();
      const result = await registry.importCsv(principalOf(request).tenantId, csv);
      request.log.info({ created: result.created, failed: result.errors.length, ms: Date.now() - started }, 'device import');
      return result;
    },
  );
};
