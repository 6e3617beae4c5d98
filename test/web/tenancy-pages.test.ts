/**
 * The Groups, Grants and Roles pages in Chromium at 1280 px, each flow checked against the API
 * afterwards: a static group and an attribute-filtered one with their members; an MQTT grant
 * created, listed and deleted; a custom role built from the permission checklist and given to a
 * user on the Users page. Screenshots go to test-output/screenshots/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWeb, openBrowser, signIn, type Browser } from './browser-support.js';

let tp: TestPlatform;
let b: Browser;

before(async () => {
  await buildWeb();
  tp = await startTestPlatform();
  b = await openBrowser({ width: 1280, height: 900 });
  await signIn(b.page, tp.baseUrl);
});

after(async () => {
  await b?.close();
  await tp?.stop();
});

test('Groups: a static group and an attribute-filtered one show their members, as the API resolves them', async () => {
  const { page } = b;
  await tp.api.createDevice('lamp-pinned');
  const north = await tp.api.createDevice('lamp-north');
  await tp.api.createDevice('lamp-south');
  assert.equal((await tp.api.request('POST', `/api/devices/${north.id}/attributes/server`, { site: 'north' })).status, 200);

  await page.getByRole('link', { name: 'Groups' }).click();
  await page.locator('.groups-page[data-loaded="true"]').waitFor();
  await page.getByLabel('Group name').fill('pinned-lamps');
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.getByRole('status').filter({ hasText: 'Group pinned-lamps created.' }).waitFor();
  await page.getByRole('button', { name: 'Open pinned-lamps' }).click();
  await page.getByLabel('Device to add').selectOption({ label: 'lamp-pinned' });
  await page.getByRole('button', { name: 'Add device' }).click();
  await page.getByRole('list', { name: 'Members of pinned-lamps' }).getByRole('link', { name: 'lamp-pinned' }).waitFor();

  await page.getByLabel('Group name').fill('north-lamps');
  await page.getByLabel('Attribute key').fill('site');
  await page.getByLabel('Equals').fill('north');
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.getByRole('status').filter({ hasText: 'Group north-lamps created.' }).waitFor();
  await page.getByRole('button', { name: 'Open north-lamps' }).click();
  const members = page.getByRole('list', { name: 'Members of north-lamps' });
  await members.getByRole('link', { name: 'lamp-north' }).waitFor();
  assert.deepEqual(await members.getByRole('link').allTextContents(), ['lamp-north']);
  await b.shot('tenancy-groups-1280');

  const groups = await tp.api.request<{ id: string; name: string; filter?: unknown }[] | { items: { id: string; name: string; filter?: unknown }[] }>('GET', '/api/groups');
  const list = Array.isArray(groups.body) ? groups.body : groups.body.items;
  const byName = new Map(list.map((g) => [g.name, g]));
  assert.equal(byName.get('pinned-lamps')?.filter, undefined);
  assert.deepEqual(byName.get('north-lamps')?.filter, { all: [{ scope: 'server', key: 'site', equals: 'north' }] });
  const namesOf = async (id: string): Promise<string[]> => (await tp.api.request<{ items: { name: string }[] }>('GET', `/api/groups/${id}/devices`)).body.items.map((d) => d.name);
  assert.deepEqual(await namesOf(byName.get('pinned-lamps')?.id ?? ''), ['lamp-pinned']);
  assert.deepEqual(await namesOf(byName.get('north-lamps')?.id ?? ''), ['lamp-north']);
  assert.deepEqual(b.errors, []);
});

test('Grants: a grant is created, listed, then deleted', async () => {
  const { page } = b;
  const topic = 'fleet/${device.name}/status';
  await page.getByRole('link', { name: 'Grants' }).click();
  await page.locator('.grants-page[data-loaded="true"]').waitFor();
  await page.getByLabel('Subscribe').check();
  await page.getByLabel('Topic filter template').fill(topic);
  await page.getByRole('button', { name: 'Create grant' }).click();
  await page.getByRole('status').filter({ hasText: 'Grant created.' }).waitFor();
  await page.locator('tr', { hasText: topic }).waitFor();
  await b.shot('tenancy-grants-1280');
  type GrantView = { id: string; topic: string; actions: string[]; subject: { all?: boolean } };
  const grantsOf = async (): Promise<GrantView[]> => {
    const res = await tp.api.request<GrantView[] | { items: GrantView[] }>('GET', '/api/grants');
    return Array.isArray(res.body) ? res.body : res.body.items;
  };
  const created = await grantsOf();
  assert.equal(created.length, 1);
  assert.deepEqual([created[0]?.topic, [...(created[0]?.actions ?? [])].sort(), created[0]?.subject.all], [topic, ['publish', 'subscribe'], true]);

  await page.getByRole('button', { name: `Delete grant on ${topic}`, exact: true }).click();
  await page.getByRole('button', { name: `Confirm delete grant on ${topic}` }).click();
  await page.getByRole('status').filter({ hasText: 'Grant deleted.' }).waitFor();
  await page.locator('tr', { hasText: topic }).waitFor({ state: 'detached' });
  assert.deepEqual(await grantsOf(), []);
  assert.deepEqual(b.errors, []);
});

test('Roles: a custom role from the permission checklist, given to a user on the Users page', async () => {
  const { page } = b;
  const email = 'reader@roles.test';
  assert.equal((await tp.api.request('POST', '/api/users', { email, password: 'roles-page-password-1', role: 'viewer' })).status, 201);
  await page.getByRole('link', { name: 'Roles' }).click();
  await page.locator('.roles-page[data-loaded="true"]').waitFor();
  await page.getByLabel('Role name').fill('lamp readers');
  await page.getByRole('checkbox', { name: 'devices read', exact: true }).check();
  await page.getByRole('checkbox', { name: 'telemetry read', exact: true }).check();
  await page.getByRole('button', { name: 'Create role' }).click();
  await page.getByRole('status').filter({ hasText: 'Role lamp readers created.' }).waitFor();
  await page.locator('tr', { hasText: 'lamp readers' }).waitFor();
  await b.shot('tenancy-roles-1280');
  const roles = await tp.api.request<{ id: string; name: string; role: string; permissions: string[] }[]>('GET', '/api/roles');
  const role = roles.body.find((r) => r.name === 'lamp readers');
  assert.ok(role);
  assert.deepEqual([...role.permissions].sort(), ['devices:read', 'telemetry:read']);

  await page.getByRole('link', { name: 'Users' }).click();
  await page.locator('.users-page[data-loaded="true"]').waitFor();
  await page.getByLabel(`Role of ${email}`).selectOption({ label: 'lamp readers (custom)' });
  await page.getByRole('status').filter({ hasText: `${email} is now a ${role.role}.` }).waitFor();
  await b.shot('tenancy-users-custom-role-1280');
  const users = await tp.api.request<{ email: string; role: string }[]>('GET', '/api/users');
  assert.equal(users.body.find((u) => u.email === email)?.role, role.role);
  assert.deepEqual(b.errors, []);
});
