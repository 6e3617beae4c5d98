/**
 * Tenancy in the dashboard, at 1280 px and 390 px: the system admin creates a tenant, its admin
 * and its quotas; the tenant admin creates a customer, assigns it a device and creates a customer
 * user; the customer user lands on its dashboards, sees only Fleet/Alarms/Dashboards and only its
 * device. Every new page is axe-clean and does not overflow at phone width.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { apiClient, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { axeSerious, buildWeb, horizontalOverflow, openBrowser, signIn } from './browser-support.js';

let tp: TestPlatform;

before(async () => {
  await buildWeb();
  tp = await startTestPlatform();
});

after(async () => {
  await tp?.stop();
});

async function checkPage(page: Page, width: number, what: string): Promise<void> {
  const violations = await axeSerious(page);
  assert.equal(violations.length, 0, `${what}: ${violations.map((v) => `${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('\n')}`);
  if (width < 500) {
    const { scrollWidth, innerWidth } = await horizontalOverflow(page);
    assert.ok(scrollWidth <= innerWidth, `${what} overflows at ${width} px: ${scrollWidth} > ${innerWidth}`);
  }
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
}

async function navLinks(page: Page): Promise<string[]> {
  return (await page.locator('nav[aria-label="Main"] a').allTextContents()).map((t) => t.trim().replace(/\s+\d+$/, ''));
}

for (const width of [1280, 390]) {
  test(`at ${width} px: sysadmin → tenant and admin, tenant admin → customer, device and customer user, customer user sees only its device`, async () => {
    const b = await openBrowser({ width, height: 900 });
    const { page } = b;
    const tenantName = `Tenant ${width}`;
    const tenantAdmin = { email: `admin-${width}@tenant.test`, password: `tenant-admin-pass-${width}` };
    const customerUser = { email: `user-${width}@acme.test`, password: `customer-user-pass-${width}` };
    try {
      // The system admin: tenants page, a new tenant, its admin and a quota.
      await signIn(page, tp.baseUrl);
      await page.getByRole('link', { name: 'Tenants' }).click();
      await page.locator('.tenants-page[data-loaded="true"]').waitFor();
      await page.getByLabel('Tenant name').fill(tenantName);
      await page.getByRole('button', { name: 'Create tenant' }).click();
      await page.locator('tr', { hasText: tenantName }).waitFor();
      await page.getByRole('button', { name: `Add admin to ${tenantName}` }).click();
      await page.getByLabel(`Admin email for ${tenantName}`).fill(tenantAdmin.email);
      await page.getByLabel(`Admin password for ${tenantName}`).fill(tenantAdmin.password);
      await page.getByRole('button', { name: 'Add tenant admin' }).click();
      await page.getByRole('status').filter({ hasText: `${tenantAdmin.email} is an admin of ${tenantName}` }).waitFor();
      await page.getByRole('button', { name: `Quotas of ${tenantName}` }).click();
      await page.getByLabel(`Max devices (${tenantName})`).fill('5');
      await page.getByRole('button', { name: 'Save quotas' }).click();
      await page.getByRole('status').filter({ hasText: `Quotas of ${tenantName} saved` }).waitFor();
      // A fresh token: signing out in the browser ends every session of the admin, tp.api's included.
      const sysApi = await apiClient(tp.baseUrl);
      const tenants = await sysApi.request<{ id: string; name: string }[]>('GET', '/api/tenants');
      const tenantId = tenants.body.find((t) => t.name === tenantName)?.id ?? '';
      const quotas = await sysApi.request<{ limits: { maxDevices: number | null } }>('GET', `/api/tenants/${tenantId}/quotas`);
      assert.equal(quotas.body.limits.maxDevices, 5);
      await checkPage(page, width, 'tenants');
      await signOut(page);

      // Two devices in the new tenant: only one will be the customer's.
      const adminApi = await apiClient(tp.baseUrl, tenantAdmin);
      await adminApi.createDevice(`visible-pump-${width}`);
      await adminApi.createDevice(`hidden-pump-${width}`);

      // The tenant admin: no Tenants link; a customer with the device and a customer user.
      await signIn(page, tp.baseUrl, tenantAdmin);
      const adminNav = await navLinks(page);
      assert.ok(!adminNav.includes('Tenants'), adminNav.join(','));
      for (const name of ['Customers', 'Groups', 'Grants', 'Roles', 'Users']) assert.ok(adminNav.includes(name), `${name} in ${adminNav.join(',')}`);
      await page.getByRole('link', { name: 'Customers' }).click();
      await page.locator('.customers-page[data-loaded="true"]').waitFor();
      await page.getByLabel('Customer name').fill('Acme');
      await page.getByRole('button', { name: 'Create customer' }).click();
      await page.getByRole('button', { name: 'Acme', exact: true }).click();
      await page.getByRole('heading', { name: 'Acme' }).waitFor();
      await page.getByLabel('Device', { exact: true }).selectOption({ label: `visible-pump-${width}` });
      await page.getByRole('button', { name: 'Assign device' }).click();
      await page.getByRole('list', { name: 'Devices of Acme' }).getByRole('link', { name: `visible-pump-${width}` }).waitFor();
      await page.getByLabel('Customer user email').fill(customerUser.email);
      await page.getByLabel('Customer user password').fill(customerUser.password);
      await page.getByRole('button', { name: 'Create customer user' }).click();
      await page.getByRole('status').filter({ hasText: `${customerUser.email} can sign in as a user of Acme` }).waitFor();
      await checkPage(page, width, 'customers');
      for (const [hash, cls] of [['#/groups', 'groups'], ['#/grants', 'grants'], ['#/roles', 'roles'], ['#/users', 'users']] as const) {
        await page.goto(`${tp.baseUrl}/${hash}`);
        await page.locator(`.${cls}-page[data-loaded="true"]`).waitFor();
        await checkPage(page, width, cls);
      }
      await signOut(page);

      // The customer user lands on its dashboards and sees only Fleet, Alarms, Dashboards — and one device.
      await page.getByLabel('Email').fill(customerUser.email);
      await page.getByLabel('Password').fill(customerUser.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Dashboards', level: 1 }).waitFor();
      assert.deepEqual(await navLinks(page), ['Fleet', 'Alarms', 'Dashboards']);
      await page.getByRole('link', { name: 'Fleet' }).click();
      await page.getByRole('link', { name: `visible-pump-${width}` }).first().waitFor();
      assert.equal(await page.getByText(`hidden-pump-${width}`).count(), 0);
      const userApi = await apiClient(tp.baseUrl, customerUser);
      const counts = await userApi.request<{ total: number }>('GET', '/api/devices/counts');
      assert.equal(counts.body.total, 1, "the fleet counts are the customer's too");
      await checkPage(page, width, 'customer fleet');
      await b.shot(`tenancy-customer-fleet-${width}`);
      assert.deepEqual(b.errors.filter((e) => !/status of 4\d\d/.test(e)), []);
    } finally {
      await b.close();
    }
  });
}
