/**
 * The OTA pages in Chromium at 1280 and 390 px: upload a package (with its progress bar) and a
 * spare one, delete the spare behind a confirmation, start a deployment to 3 devices in two waves,
 * watch the funnel per wave (wave 1 notified, wave 2 queued), pause and resume it, then a device
 * reports a failure whose fw_error is HTML: the failure reason and the device page's firmware
 * history show it as text and nothing runs. On another device, "Assign package" assigns one.
 * axe clean on the deployment page; no sideways scroll on a phone.
 * Screenshots: test-output/screenshots/74-ota-*.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { axeSerious, buildWeb, horizontalOverflow, openBrowser, run, signIn, type Browser } from './browser-support.js';

let tp: TestPlatform;

const WIDTHS = [
  { name: 'wide', viewport: { width: 1280, height: 900 } },
  { name: 'phone', viewport: { width: 390, height: 844 } },
] as const;

const PAYLOAD = '<img src="/xss-fw-error" onerror="window.xss=1">flash write failed';

before(async () => {
  await buildWeb();
  tp = await startTestPlatform();
});

after(async () => {
  await tp?.stop();
});

interface DeviceRow {
  deviceId: string;
  wave: number;
  state: string;
}

async function withBrowser(viewport: { width: number; height: number }, fn: (b: Browser) => Promise<void>): Promise<void> {
  const b = await openBrowser(viewport);
  try {
    await signIn(b.page, tp.baseUrl);
    await fn(b);
    assert.deepEqual(b.errors, [], 'no console errors');
  } finally {
    await b.close();
  }
}

for (const { name, viewport } of WIDTHS) {
  test(`${name}: upload, deploy to 3 devices, funnel per wave, pause/resume, device firmware section`, async () => {
    const devices = await Promise.all([1, 2, 3].map((n) => tp.api.createDevice(`meter-${name}-${n}`)));
    const other = await tp.api.createDevice(`spare-meter-${name}`);
    const title = `meter-fw-${name}`;
    await withBrowser(viewport, async (b) => {
      const { page } = b;
      const xssRequests: string[] = [];
      page.on('request', (r) => {
        if (r.url().includes('/xss-')) xssRequests.push(r.url());
      });
      if (name === 'phone') {
        await page.goto(`${tp.baseUrl}/#/ota`);
      } else {
        await page.getByRole('link', { name: 'Firmware' }).click();
      }
      await page.getByRole('heading', { name: 'Firmware', level: 1 }).waitFor();

      // Upload: the package and a spare, each with its file, title and version.
      const upload = page.getByRole('form', { name: 'Upload a package' });
      for (const [t, v] of [[title, '2.0.0'], [`spare-${name}`, '0.1']] as const) {
        await upload.getByLabel('Package file').setInputFiles({ name: `${t}.bin`, mimeType: 'application/octet-stream', buffer: Buffer.alloc(40_000, 7) });
        await upload.getByLabel('Title', { exact: true }).fill(t);
        await upload.getByLabel('Version', { exact: true }).fill(v);
        await upload.getByRole('button', { name: 'Upload' }).click();
        await page.getByText(`${t} ${v} uploaded.`).waitFor();
      }
      assert.equal(await upload.getByLabel('Upload progress').evaluate((el) => (el as HTMLProgressElement).value), 1, 'the progress bar reached the end');
      const pkgs = (await tp.api.request<{ id: string; title: string; size: number }[]>('GET', '/api/ota/packages')).body;
      const pkg = pkgs.find((p) => p.title === title);
      assert.ok(pkg);
      assert.equal(pkg.size, 40_000);
      await page.locator(`tr[data-package-id="${pkg.id}"]`, { hasText: '39.1 KiB' }).waitFor();

      // Delete the spare: asks first.
      await page.getByRole('button', { name: `Delete spare-${name} 0.1` }).click();
      await page.getByRole('button', { name: `Confirm delete spare-${name} 0.1` }).click();
      await page.getByText(`spare-${name} 0.1 deleted.`).waitFor();
      assert.equal((await tp.api.request<{ title: string }[]>('GET', '/api/ota/packages')).body.some((p) => p.title === `spare-${name}`), false);

      // A deployment to the 3 devices in two waves (33 % of 3 = 1 device, then the rest).
      const deploy = page.getByRole('form', { name: 'New deployment' });
      await deploy.getByLabel('Package', { exact: true }).selectOption(pkg.id);
      await deploy.getByLabel('Devices', { exact: true }).selectOption(devices.map((d) => d.id));
      await deploy.getByLabel('Waves (% of the target, cumulative)').fill('33, 100');
      await deploy.getByLabel('Abort when failed above (%)').fill('90');
      await deploy.getByRole('button', { name: 'Start deployment' }).click();
      await page.getByRole('heading', { name: 'Deployment of firmware 2.0.0' }).waitFor();
      const depId = decodeURIComponent(new URL(page.url()).hash.replace('#/ota/deployments/', ''));
      const wave1 = page.locator('figure[data-wave="Wave 1"]');
      const wave2 = page.locator('figure[data-wave="Wave 2"]');
      // The scheduler tells wave 1 within a tick; the page refreshes itself.
      await wave1.locator('tr[data-state="notified"] td.num', { hasText: /^1$/ }).waitFor();
      assert.equal(await wave2.locator('tr[data-state="queued"] td.num').innerText(), '2');
      assert.deepEqual(await axeSerious(page), [], 'axe on the deployment page');
      if (name === 'phone') assert.ok((await horizontalOverflow(page)).scrollWidth <= viewport.width, 'no sideways scroll');
      await b.shot(`74-ota-${name}-funnel`);

      // Pause, then resume.
      await page.getByRole('button', { name: 'Pause' }).click();
      await page.locator('[data-status="paused"]').waitFor();
      assert.equal((await tp.api.request<{ status: string }>('GET', `/api/ota/deployments/${depId}`)).body.status, 'paused');
      await page.getByRole('button', { name: 'Resume' }).click();
      await page.locator('[data-status="running"]').waitFor();
      await page.getByRole('button', { name: 'Pause' }).waitFor();

      // The wave-1 device fails with an HTML error: it shows as text, wave 2 starts.
      const rows = (await tp.api.request<DeviceRow[]>('GET', `/api/ota/deployments/${depId}/devices`)).body;
      const first = devices.find((d) => d.id === rows.find((r) => r.wave === 0)?.deviceId);
      assert.ok(first);
      await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', first.accessToken, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify({ fw_state: 'FAILED', fw_error: PAYLOAD })]);
      await page.getByRole('list', { name: 'Failure reasons' }).getByText(PAYLOAD).waitFor();
      await wave2.locator('tr[data-state="notified"] td.num', { hasText: /^2$/ }).waitFor();
      await b.shot(`74-ota-${name}-failure`);

      // The device page: current version, the assigned package, the state and history.
      await page.goto(`${tp.baseUrl}/#/devices/${first.id}`);
      const fw = page.getByRole('region', { name: 'Firmware' });
      await fw.locator('[data-field="assigned"]', { hasText: `${title} 2.0.0` }).waitFor();
      await fw.locator('[data-field="state"]', { hasText: 'FAILED' }).waitFor();
      await fw.getByRole('list', { name: 'Firmware history' }).getByText(PAYLOAD).waitFor();
      assert.equal(await fw.locator('[data-field="current"]').innerText(), 'not reported');
      await fw.scrollIntoViewIfNeeded();
      await b.shot(`74-ota-${name}-device`);

      // Another device: "Assign package".
      await page.goto(`${tp.baseUrl}/#/devices/${other.id}`);
      await fw.locator('[data-field="assigned"]', { hasText: 'none' }).waitFor();
      await fw.getByRole('button', { name: 'Assign package' }).click();
      await fw.getByLabel('Package to assign').selectOption(pkg.id);
      await fw.getByRole('button', { name: 'Assign', exact: true }).click();
      await fw.locator('[data-field="assigned"]', { hasText: `${title} 2.0.0` }).waitFor();
      const status = await eventually(async () => {
        const r = await tp.api.request<{ firmware: { assigned: { packageId: string } | null } }>('GET', `/api/devices/${other.id}/firmware`);
        return r.body.firmware.assigned ?? undefined;
      });
      assert.equal(status.packageId, pkg.id);

      assert.deepEqual(xssRequests, [], 'no payload was parsed');
      assert.equal(await page.evaluate(() => (window as unknown as { xss?: unknown }).xss), undefined);
    });
  });
}
