/**
 * OTA packages and assignments (issue 16, docs/OTA.md).
 *
 *   POST   /api/ota/packages?title&version[&profileId&type&checksum&hardware&signature&minVersion&fromVersion]   raw body or multipart → 201
 *          …&url&checksum&size (no body): an external package, devices are told fw_url
 *   GET    /api/ota/packages[?type]          GET /api/ota/packages/{id}       DELETE /api/ota/packages/{id}
 *   GET    /api/ota/packages/{id}/data       the bytes, with HTTP Range (206 / 416)
 *   POST   /api/devices/{id}/firmware {packageId}   assigns (fw_* / sw_* shared attributes)
 *   GET    /api/devices/{id}/firmware        assignment, reported state, current version, history
 *   POST   /api/profiles/{id}/firmware {packageId}  assigns to every device of the profile without its own
 *
 * Uploads are streamed to the blob store (the body is never parsed or buffered here: a
 * pass-through content parser in this plugin's scope), limited to ota.maxPackageBytes (413).
 * Writes are admin only (roles.ts); the audit hook records them, the upload with its own entry.
 */
import { Readable } from 'node:stream';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { PlatformError } from '../domain/errors.js';
import { CHECKSUM_ALGORITHM, OTA_TYPES, type OtaPackage } from '../domain/ota.js';
import type { ApiDeps, OtaApi } from './deps.js';
import { boundaryOf, openMultipartFile } from './multipart.js';
import { principalOf } from './principal.js';
import { IdParams, errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['ota'];
const OtaTypeSchema = Type.Union(OTA_TYPES.map((t) => Type.Literal(t)));

const PackageView = Type.Object({
  id: Type.String(),
  type: OtaTypeSchema,
  title: Type.String(),
  version: Type.String(),
  profileId: Type.Optional(Type.String()),
  hardware: Type.Optional(Type.String()),
  size: Type.Integer(),
  checksum: Type.String({ description: 'SHA-256 of the bytes, hex' }),
  checksumAlgorithm: Type.Literal(CHECKSUM_ALGORITHM),
  createdAt: Type.Integer(),
  minVersion: Type.Optional(Type.String({ description: 'anti-rollback: not assigned to devices reporting an older current version' })),
  fromVersion: Type.Optional(Type.String({ description: 'a delta: applies on top of this version only' })),
  url: Type.Optional(Type.String({ description: 'an external package: devices download it from here (fw_url)' })),
  signedBy: Type.Optional(Type.String({ description: 'the signing key that verified the signature at upload' })),
  signature: Type.Optional(Type.String({ description: 'the Ed25519 signature over the manifest, base64' })),
});

const UploadQuery = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 128 }),
    version: Type.String({ minLength: 1, maxLength: 128 }),
    profileId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    type: Type.Optional(OtaTypeSchema),
    checksum: Type.Optional(Type.String({ minLength: 64, maxLength: 64, description: 'the SHA-256 you expect, hex; the upload fails (422) unless the bytes have it' })),
    hardware: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    signature: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'base64 Ed25519 signature over the canonical manifest (docs/OTA.md); 400 unless a key of the tenant verifies it' })),
    minVersion: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    fromVersion: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'a delta package: applies on top of this version' })),
    url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'an external package: no body; checksum and size are required' })),
    size: Type.Optional(Type.Integer({ minimum: 1, description: 'the external package size in bytes' })),
  },
  { additionalProperties: false },
);

const StatusView = Type.Object({
  assigned: Type.Union([
    Type.Object({
      via: Type.Union([Type.Literal('device'), Type.Literal('profile')]),
      packageId: Type.String(),
      title: Type.String(),
      version: Type.String(),
      size: Type.Integer(),
      checksum: Type.String(),
      assignedAt: Type.Integer(),
    }),
    Type.Null(),
  ]),
  state: Type.Union([Type.String(), Type.Null()]),
  stateTs: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  currentTitle: Type.Union([Type.String(), Type.Null()]),
  currentVersion: Type.Union([Type.String(), Type.Null()]),
  upToDate: Type.Boolean({ description: 'the device reports the assigned version as its current one' }),
  history: Type.Array(Type.Object({ ts: Type.Integer(), state: Type.String(), error: Type.Optional(Type.String()) })),
});

const packageView = (p: OtaPackage): Static<typeof PackageView> => ({
  id: p.id,
  type: p.type,
  title: p.title,
  version: p.version,
  ...(p.profileId !== undefined ? { profileId: p.profileId } : {}),
  ...(p.hardware !== undefined ? { hardware: p.hardware } : {}),
  size: p.size,
  checksum: p.checksum,
  checksumAlgorithm: CHECKSUM_ALGORITHM,
  createdAt: p.createdAt,
  ...(p.minVersion !== undefined ? { minVersion: p.minVersion } : {}),
  ...(p.fromVersion !== undefined ? { fromVersion: p.fromVersion } : {}),
  ...(p.url !== undefined ? { url: p.url } : {}),
  ...(p.signedBy !== undefined ? { signedBy: p.signedBy, ...(p.signature !== undefined ? { signature: p.signature } : {}) } : {}),
});

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range; several are answered whole, as RFC 9110 allows). */
function parseRange(header: string | undefined, size: number): { start: number; end?: number } | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') return { start: Math.max(0, size - Number(m[2])) };
  return { start: Number(m[1]), ...(m[2] !== '' ? { end: Number(m[2]) } : {}) };
}

/** The upload's bytes: the file part of a multipart body, or the raw body itself. */
async function uploadSource(request: FastifyRequest): Promise<{ source: AsyncIterable<Uint8Array>; fields: Record<string, string> }> {
  const raw = request.raw;
  const boundary = boundaryOf(request.headers['content-type']);
  if (boundary === undefined) return { source: raw, fields: {} };
  const { fields, file } = await openMultipartFile(raw, boundary);
  return { source: file, fields };
}

export const otaRoutes: ApiPlugin<{ deps: ApiDeps; ota: OtaApi }> = async (app, { deps, ota }) => {
  // Every body reaches the handler unread (request.raw): the upload streams it itself.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  app.post(
    '/ota/packages',
    {
      schema: {
        tags,
        operationId: 'uploadPackage', summary: 'Upload a firmware or software package (raw body or multipart/form-data with one file); admin',
        description: 'The body is the package (any content type), or a multipart/form-data body whose first file part is. Streamed; 413 over ota.maxPackageBytes.',
        consumes: ['application/octet-stream', 'multipart/form-data'],
        querystring: UploadQuery,
        response: { 201: PackageView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const q = request.query;
      const meta = {
        title: q.title,
        version: q.version,
        ...(q.type !== undefined ? { type: q.type } : {}),
        ...(q.profileId !== undefined ? { profileId: q.profileId } : {}),
        ...(q.hardware !== undefined ? { hardware: q.hardware } : {}),
        ...(q.signature !== undefined ? { signature: q.signature } : {}),
        ...(q.minVersion !== undefined ? { minVersion: q.minVersion } : {}),
        ...(q.fromVersion !== undefined ? { fromVersion: q.fromVersion } : {}),
      };
      let pkg: OtaPackage;
      if (q.url !== undefined) {
        // An external package: its bytes are elsewhere, any body is left unread.
        if (q.checksum === undefined || q.size === undefined) throw new PlatformError('BAD_REQUEST', 'an external package (url) needs checksum and size');
        pkg = await ota.packages.external(principal.tenantId, { ...meta, url: q.url, checksum: q.checksum, size: q.size });
      } else {
        if (q.size !== undefined) throw new PlatformError('BAD_REQUEST', 'size is stated for external packages (url) only: an upload is measured');
        const { source } = await uploadSource(request);
        pkg = await ota.packages.upload(principal.tenantId, { ...meta, ...(q.checksum !== undefined ? { checksum: q.checksum } : {}) }, source);
      }
      deps.audit?.record({
        tenantId: principal.tenantId,
        actor: principal.userId,
        ...(principal.email !== undefined ? { actorName: principal.email } : {}),
        action: 'ota.package_upload',
        targetType: 'ota',
        targetId: pkg.id,
        address: request.ip,
        details: {
          type: pkg.type, title: pkg.title, version: pkg.version, size: pkg.size, checksum: pkg.checksum,
          ...(pkg.url !== undefined ? { url: pkg.url } : {}), ...(pkg.fromVersion !== undefined ? { fromVersion: pkg.fromVersion } : {}),
          ...(pkg.signedBy !== undefined ? { signedBy: pkg.signedBy } : {}),
        },
      });
      return reply.code(201).send(packageView(pkg));
    },
  );

  app.get(
    '/ota/packages',
    {
      schema: {
        tags,
        operationId: 'listPackages', summary: "The tenant's packages, newest first",
        querystring: Type.Object({ type: Type.Optional(OtaTypeSchema) }, { additionalProperties: false }),
        response: { 200: Type.Array(PackageView), ...errorResponses },
      },
    },
    async (request) => (await ota.packages.list(principalOf(request).tenantId, request.query.type)).map(packageView),
  );

  app.get(
    '/ota/packages/:id',
    { schema: { tags, operationId: 'getPackage', summary: 'One package', params: IdParams, response: { 200: PackageView, ...errorResponses } } },
    async (request) => packageView(await ota.packages.get(principalOf(request).tenantId, request.params.id)),
  );

  app.get(
    '/ota/packages/:id/chunks',
    {
      schema: {
        tags,
        operationId: 'getPackageChunkHashes', summary: 'The SHA-256 of every chunk of the package at chunk size `size` (for devices that check chunk by chunk)',
        params: IdParams,
        querystring: Type.Object({ size: Type.Integer({ minimum: 64, maximum: 16_777_216 }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ packageId: Type.String(), size: Type.Integer(), checksum: Type.String(), checksumAlgorithm: Type.Literal('SHA256'), chunkSize: Type.Integer(), chunks: Type.Array(Type.String()) }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const manifest = await ota.packages.chunkHashes(principalOf(request).tenantId, request.params.id, request.query.size);
      return { ...manifest, chunks: [...manifest.chunks] };
    },
  );

  app.delete(
    '/ota/packages/:id',
    { schema: { tags, operationId: 'deletePackage', summary: 'Delete a package (409 while a device is assigned it); admin', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await ota.packages.delete(principalOf(request).tenantId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/ota/packages/:id/data',
    { schema: { tags, operationId: 'downloadPackage', summary: 'The package bytes; supports Range (206, 416)', params: IdParams } },
    async (request, reply) => {
      const tenantId = principalOf(request).tenantId;
      const pkg = await ota.packages.get(tenantId, request.params.id);
      const range = parseRange(request.headers.range, pkg.size);
      let data;
      try {
        data = await ota.packages.data(tenantId, pkg.id, range);
      } catch (err) {
        if (err instanceof PlatformError && err.code === 'RANGE_NOT_SATISFIABLE') void reply.header('content-range', `bytes */${pkg.size}`);
        throw err;
      }
      void reply
        .header('accept-ranges', 'bytes')
        .header('content-length', String(data.end - data.start + 1))
        .header('etag', `"${pkg.checksum}"`)
        .header('content-disposition', `attachment; filename="${encodeURIComponent(`${pkg.title}-${pkg.version}.bin`)}"`)
        .type('application/octet-stream');
      if (range) void reply.code(206).header('content-range', `bytes ${data.start}-${data.end}/${pkg.size}`);
      return reply.send(Readable.from(data.body));
    },
  );
};

/** The device's side of OTA, beside the other device routes (JSON bodies). */
export const deviceFirmwareRoutes: ApiPlugin<{ ota: OtaApi }> = async (app, { ota }) => {
  app.post(
    '/devices/:id/firmware',
    {
      schema: {
        tags,
        operationId: 'assignDeviceFirmware', summary: 'Assign a package to the device: sets the fw_* (or sw_*) shared attributes it is notified of; admin',
        params: IdParams,
        body: Type.Object({ packageId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ deviceId: Type.String(), packageId: Type.String(), type: OtaTypeSchema, assignedAt: Type.Integer() }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const a = await ota.devices.assign(principalOf(request).tenantId, request.params.id, request.body.packageId);
      return { deviceId: a.deviceId, packageId: a.packageId, type: a.type, assignedAt: a.assignedAt };
    },
  );

  app.post(
    '/profiles/:id/firmware',
    {
      schema: {
        tags,
        operationId: 'assignProfileFirmware', summary: 'Assign a package to a device profile: its devices without their own assignment download it and are told (fw_* attributes); admin',
        params: IdParams,
        body: Type.Object({ packageId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ profileId: Type.String(), packageId: Type.String(), type: OtaTypeSchema, assignedAt: Type.Integer(), devices: Type.Integer({ description: 'devices told' }) }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const a = await ota.devices.assignProfile(principalOf(request).tenantId, request.params.id, request.body.packageId);
      return { profileId: a.profileId, packageId: a.packageId, type: a.type, assignedAt: a.assignedAt, devices: a.devices };
    },
  );

  app.get(
    '/devices/:id/firmware',
    {
      schema: {
        tags,
        operationId: 'getDeviceFirmware', summary: "The device's firmware and software: assigned package, reported state and version, state history",
        params: IdParams,
        response: { 200: Type.Object({ deviceId: Type.String(), firmware: StatusView, software: StatusView }), ...errorResponses },
      },
    },
    async (request) => ota.devices.status(principalOf(request).tenantId, request.params.id),
  );

  app.delete(
    '/devices/:id/firmware',
    {
      schema: {
        tags,
        operationId: 'unassignDeviceFirmware', summary: "Remove the device's own assignment: its fw_* (or sw_*) shared attributes are removed, or follow its profile's package; admin",
        params: IdParams,
        querystring: Type.Object({ type: Type.Optional(OtaTypeSchema) }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      // Idempotent: a device without an assignment of its own answers 204 as well (an unknown one 404).
      await ota.devices.unassign(principalOf(request).tenantId, request.params.id, request.query.type ?? 'firmware');
      return reply.code(204).send(null);
    },
  );
};
