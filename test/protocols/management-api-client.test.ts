/**
 * The typed management API client: the committed operation types and table (operations/) are what the
 * generator makes of the OpenAPI document a platform serves today (stale → this fails: run
 * `node scripts/gen-client.mjs`), and calls by operationId reach the right routes with params,
 * query and body, answering typed values and mapping the error catalogue's `{error, message}`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { MAX_TAG_FILE_LINES, printClientFiles } from '../../scripts/gen-client/client-files.js';
import { describe, differences } from '../../scripts/gen-client/folder.js';
import type { OpenApiDocument } from '../../scripts/gen-client/print-operations.js';
import { SchemaPrinter } from '../../scripts/gen-client/schema-to-ts.js';
import { ApiClient, ApiError } from '../../src/protocols/management-api/client.js';
import { OPERATIONS } from '../../src/protocols/management-api/operations/index.js';
import { operationRequest } from '../../src/protocols/management-api/typed-client.js';
import { ADMIN, startTestPlatform, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
let client: ApiClient;

before(async () => {
  tp = await startTestPlatform({ store: 'memory' });
  const login = await new ApiClient(tp.baseUrl, {}).call('login', { body: ADMIN });
  client = new ApiClient(tp.baseUrl, { authorization: `Bearer ${login.token}` });
});

after(async () => {
  await tp?.stop();
});

test('the committed operations/ folder is what the generator makes of the live OpenAPI document', async () => {
  const doc = (await (await fetch(`${tp.baseUrl}/api/openapi.json`)).json()) as OpenApiDocument;
  const folder = fileURLToPath(new URL('../../src/protocols/management-api/operations/', import.meta.url));
  const files = printClientFiles(doc);
  const stale = differences(folder, files).map(describe);
  assert.deepEqual(stale, [], `src/protocols/management-api/operations/ is stale (${stale.join('; ')}); run node scripts/gen-client.mjs`);
  // House rule: files under ~500 lines (the splitting by tag and resource keeps them there).
  for (const [file, text] of files) assert.ok(text.split('\n').length <= 500, `${file}: ${text.split('\n').length} lines`);
  // Every operation of the document is callable by its id.
  const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => (op as { operationId?: string }).operationId).filter(Boolean));
  assert.deepEqual(Object.keys(OPERATIONS).sort(), [...ids].sort());
});

test('the generated folder: one file per tag, a long tag split by resource path, a barrel of re-exports, the same files whatever the document order', () => {
  // Tag "big": enough operations under two resources that one file would pass the limit.
  const op = (id: string) => ({ operationId: id, tags: ['big'], summary: `${id} summary`, responses: { '204': {} } });
  const paths: Record<string, Record<string, unknown>> = { '/api/small': { get: { ...op('getSmall'), tags: ['small'] } } };
  for (let i = 0; i < 40; i++) {
    paths[`/api/big/alpha/${i}/{id}`] = { get: op(`alpha${i}`) };
    paths[`/api/big/beta-things/${i}`] = { post: op(`beta${i}`) };
  }
  const files = printClientFiles({ paths });
  assert.deepEqual([...files.keys()], ['all.ts', 'index.ts', 'schemas.ts', 'table.ts', 'tags/big-alpha.ts', 'tags/big-beta-things.ts', 'tags/small.ts']);
  for (const [file, text] of files) assert.ok(text.split('\n').length <= MAX_TAG_FILE_LINES, `${file} is short`);
  assert.match(files.get('tags/big-alpha.ts')!, /export interface BigAlphaOperations \{[^]*alpha39: \{/);
  assert.doesNotMatch(files.get('tags/big-alpha.ts')!, /beta0/);
  assert.match(files.get('all.ts')!, /extends BigAlphaOperations,\n {4}BigBetaThingsOperations,\n {4}SmallOperations \{\}/);
  const code = files.get('index.ts')!.replace(/\/\*\*[^]*?\*\/\n/, '').trim().split('\n');
  assert.ok(code.every((line) => line.startsWith('export ') && line.includes(' from ')), 'the barrel only re-exports');
  const reversed = Object.fromEntries(Object.entries(paths).reverse());
  assert.deepEqual([...printClientFiles({ paths: reversed })], [...files], 'document order does not matter');
});

test('schemas print as TypeScript: objects, optional and quoted keys, enums, unions, nullable, arrays, maps, refs', () => {
  const p = new SchemaPrinter((ref) => `Ref<${JSON.stringify(ref)}>`);
  assert.equal(p.print({ type: 'string', nullable: true }), 'string | null');
  assert.equal(p.print({ anyOf: [{ type: 'string', enum: ['a'] }, { type: 'string', enum: ['b'] }, { type: 'object', nullable: true, enum: [null] }] }), '"a" | "b" | null');
  assert.equal(p.print({ type: 'array', items: { anyOf: [{ type: 'integer' }, { type: 'boolean' }] } }), '(number | boolean)[]');
  assert.equal(p.print({ type: 'object', additionalProperties: { type: 'number' } }), 'Record<string, number>');
  assert.equal(p.print({ type: 'object' }), 'Record<string, unknown>');
  assert.equal(p.print({ $ref: '#/components/schemas/Device' }), 'Ref<"#/components/schemas/Device">');
  assert.equal(p.print({ anyOf: [{ type: 'string' }, {}] }), 'unknown', 'a union with anything is anything');
  assert.equal(
    p.print({ type: 'object', required: ['id'], properties: { id: { type: 'string', description: 'the id */ here' }, 'content-type': { type: 'string' } } }),
    '{\n  /** the id *\\/ here */\n  id: string;\n  "content-type"?: string;\n}',
  );
});

test('a call fills and encodes path params, sends query and body, and answers the typed value', async () => {
  assert.deepEqual(operationRequest('getDevice', { params: { id: 'a/b c' } }), { method: 'GET', path: '/api/devices/a%2Fb%20c', query: {} });
  assert.throws(() => operationRequest('getDevice', { params: { id: '' } }), /path parameter "id" is missing/);
  const created = await client.call('createDevice', { body: { name: 'typed-1', label: 'from the typed client' } });
  assert.equal(created.name, 'typed-1');
  assert.equal(typeof created.accessToken, 'string');
  const page = await client.call('listDevices', { query: { search: 'typed-', limit: 10 } });
  assert.deepEqual(page.items.map((d) => d.name), ['typed-1']);
  const updated = await client.call('updateDevice', { params: { id: created.id }, body: { label: null } });
  assert.equal(updated.label, null);
  const { items } = await client.call('listProfiles');
  assert.ok(items.some((p) => p.id === created.profileId));
  assert.equal(await client.call('deleteDevice', { params: { id: created.id } }), undefined);
});

test('errors carry the catalogue code and the status (404 → exit code 3 in the CLI)', async () => {
  const err = await client.call('getDevice', { params: { id: '00000000-0000-4000-8000-000000000000' } }).then(
    () => assert.fail('a missing device must fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ApiError);
  assert.equal(err.status, 404);
  assert.equal(err.code, 'DEVICE_NOT_FOUND');
  assert.equal(err.exitCode, 3);
  const bad = await client.call('createDevice', { body: { name: '' } }).then(
    () => assert.fail('an empty name must be refused'),
    (e: unknown) => e,
  );
  assert.ok(bad instanceof ApiError);
  assert.equal(bad.status, 400);
  assert.equal(bad.code, 'BAD_REQUEST');
});
