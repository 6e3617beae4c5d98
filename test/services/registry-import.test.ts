import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import { DEFAULT_TENANT_ID } from '../../src/domain/device.js';
import { isPlatformError } from '../../src/domain/errors.js';
import type { Logger } from '../../src/ports.js';
import { RegistryService } from '../../src/services/registry.js';

const logger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => logger };
const T = DEFAULT_TENANT_ID;

async function setup() {
  const store = createMemoryStore();
  const registry = new RegistryService({ store, clock: { now: () => 1 }, logger, codecNames: ['json'] });
  await registry.init();
  return { store, registry };
}

describe('RegistryService.importCsv', () => {
  it('creates valid rows and reports the others by line', async () => {
    const { registry } = await setup();
    await registry.createProfile({ tenantId: T, name: 'meters' });
    await registry.createDevice({ tenantId: T, name: 'exists' });
    const csv = [
      'name,label,profile,type,accessToken,clientId,username,password',
      'a,Label A,meters,false,tok-a,,,',
      'gw,,,true,,,,',
      ',no name,,,,,,',
      'a,dup in file,,,,,,',
      'exists,,,,,,,',
      'b,,nope,,,,,',
      'c,"multi',
      'line label",,,,,,',
      'd,,,maybe,,,,',
      'e,,,,,cid,usr,pw-long-1',
      'f,,,,tok-a,,,',
      'g,too,many,columns,,,,,,',
    ].join('\n');
    const progress: [number, number][] = [];
    const result = await registry.importCsv(T, csv, (done, total) => progress.push([done, total]));
    assert.equal(result.created, 4);
    assert.deepEqual(
      result.errors.map((e) => [e.row, e.name]),
      [
        [4, undefined],
        [5, 'a'],
        [6, 'exists'],
        [7, 'b'],
        [10, 'd'],
        [12, 'f'],
        [13, 'g'],
      ],
    );
    assert.match(result.errors[1]?.message ?? '', /duplicate name in file \(first on line 2\)/);
    assert.match(result.errors[3]?.message ?? '', /no profile named "nope"/);
    assert.deepEqual(progress.at(-1), [11, 11]);
    const a = (await registry.findDeviceByName(T, 'a'))!;
    assert.equal(a.label, 'Label A');
    assert.equal((await registry.getProfile(a.profileId))?.name, 'meters');
    assert.equal((await registry.findDeviceByName(T, 'gw'))?.isGateway, true);
    assert.equal((await registry.findDeviceByName(T, 'c'))?.label, 'multi\nline label');
    assert.equal((await registry.authenticate({ basic: { clientId: 'cid', username: 'usr', password: 'pw-long-1' } })).name, 'e');
    assert.equal((await registry.authenticate({ token: 'tok-a' })).name, 'a');
  });

  it('rejects files without a name column or with unknown columns', async () => {
    const { registry } = await setup();
    await assert.rejects(registry.importCsv(T, 'label\nx\n'), (e: unknown) => isPlatformError(e, 'BAD_REQUEST'));
    await assert.rejects(registry.importCsv(T, 'name,colour\nx,red\n'), (e: unknown) => isPlatformError(e, 'BAD_REQUEST'));
    await assert.rejects(registry.importCsv(T, ''), (e: unknown) => isPlatformError(e, 'BAD_REQUEST'));
  });

  it('imports 10,000 rows in seconds', async () => {
    const { registry, store } = await setup();
    const lines = ['name,label'];
    for (let i = 0; i < 10_000; i++) lines.push(`dev-${i},label ${i}`);
    const started = Date.now();
    const result = await registry.importCsv(T, lines.join('\n') + '\n');
    const ms = Date.now() - started;
    assert.equal(result.created, 10_000);
    assert.deepEqual(result.errors, []);
    assert.equal((await store.listDevices({ tenantId: T, limit: 1, offset: 0 })).total, 10_000);
    assert.ok(ms < 10_000, `took ${ms} ms`);
  });
});
