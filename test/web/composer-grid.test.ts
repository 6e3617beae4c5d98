/**
 * The composer's grid in Chromium at 1280 and 390 px: a widget dragged by its handle to a new
 * place and resized from its corner/edge keeps that place and size after Save and a reload (read
 * back from the API and from the page); a widget is edited after it was added (Edit dialog: title
 * and unit change, the same widget id); axe stays clean in edit mode and with the dialog open.
 * Screenshots: test-output/screenshots/72-composer-*.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { axeSerious, buildWeb, horizontalOverflow, openBrowser, run, signIn, type Browser } from './browser-support.js';

let tp: TestPlatform;
let pump: { id: string; name: string; accessToken: string };

const WIDTHS = [
  { name: 'wide', viewport: { width: 1280, height: 900 } },
  { name: 'phone', viewport: { width: 390, height: 844 } },
] as const;

interface SavedWidget {
  id: string;
  title: string;
  unit?: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

before(async () => {
  await buildWeb();
  tp = await startTestPlatform();
  pump = await tp.api.createDevice('pump-grid');
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', pump.accessToken, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify({ flow: 3.5, pressure: 1.2 })]);
});

after(async () => {
  await tp?.stop();
});

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

async function createDashboard(name: string): Promise<string> {
  const res = await tp.api.request<{ id: string }>('POST', '/api/dashboards', {
    name,
    widgets: [
      { type: 'value', title: 'Flow', deviceId: pump.id, keys: ['flow'], x: 0, y: 0, w: 3, h: 2 },
      { type: 'value', title: 'Pressure', deviceId: pump.id, keys: ['pressure'], x: 0, y: 2, w: 3, h: 2 },
    ],
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

async function saved(id: string): Promise<Record<string, SavedWidget>> {
  const res = await tp.api.request<{ widgets: SavedWidget[] }>('GET', `/api/dashboards/${id}`);
  return Object.fromEntries(res.body.widgets.map((w) => [w.title, w]));
}

/** Drags from the centre of `selector` by (dx, dy) px in small steps, as a hand would. */
async function drag(page: Page, selector: string, dx: number, dy: number): Promise<void> {
  await page.locator(selector).scrollIntoViewIfNeeded();
  const box = await page.locator(selector).boundingBox();
  assert.ok(box, `${selector} is visible`);
  const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
  await page.mouse.move(x, y);
  await page.mouse.down();
  // gridstack starts a drag after a few pixels and measures from there: start it first.
  await page.mouse.move(x + Math.sign(dx) * 2, y + Math.sign(dy) * 2);
  await page.mouse.move(x, y);
  for (let i = 1; i <= 10; i++) await page.mouse.move(x + (dx * i) / 10, y + (dy * i) / 10);
  await page.mouse.up();
}

async function cell(page: Page): Promise<{ col: number; row: number }> {
  return page.locator('.dash-grid').evaluate((g) => {
    const cols = Number(getComputedStyle(g).getPropertyValue('--gs-columns')) || 12;
    return { col: g.getBoundingClientRect().width / cols, row: parseFloat(getComputedStyle(document.documentElement).fontSize) * 5.5 };
  });
}

for (const { name, viewport } of WIDTHS) {
  test(`${name}: a widget dragged to a new place and size keeps both after Save and a reload`, async () => {
    const id = await createDashboard(`Grid ${name}`);
    await withBrowser(viewport, async (b) => {
      const { page } = b;
      await page.goto(`${tp.baseUrl}/#/dashboards/${id}`);
      await page.getByRole('heading', { name: `Grid ${name}` }).waitFor();
      await page.locator('.widget[aria-label="Value card: Pressure"] output[data-key="pressure"]').waitFor();
      // Not editing: no drag handles, no tools.
      assert.equal(await page.getByRole('button', { name: 'Move or resize Pressure' }).isVisible(), false);
      await page.getByRole('button', { name: 'Edit', exact: true }).click();
      const { col, row } = await cell(page);
      const item = '.grid-stack-item:has(.widget[aria-label="Value card: Pressure"])';
      if (name === 'wide') {
        // Move Pressure from column 1, row 3 to column 7, row 1; then make it 5 wide and 3 high.
        await drag(page, `${item} .widget-move`, 6 * col, -2 * row);
        await drag(page, `${item} .ui-resizable-se`, 2 * col, row);
      } else {
        // One column: Pressure goes above Flow and becomes one row taller.
        await drag(page, `${item} .widget-move`, 0, -2.5 * row);
        await drag(page, `${item} .ui-resizable-s`, 0, row);
      }
      await page.getByText('Unsaved changes.').waitFor();
      assert.deepEqual(await axeSerious(page), [], 'axe in edit mode');
      await b.shot(`72-composer-${name}-dragged`);
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Saved.').waitFor();

      const after = await saved(id);
      const [flow, pressure] = [after.Flow, after.Pressure];
      assert.ok(flow && pressure);
      if (name === 'wide') {
        assert.deepEqual([pressure.x, pressure.y, pressure.w, pressure.h], [6, 0, 5, 3], JSON.stringify(after));
        assert.deepEqual([flow.x, flow.y, flow.w, flow.h], [0, 0, 3, 2], 'Flow stays');
      } else {
        assert.equal(pressure.h, 3, JSON.stringify(after));
        assert.equal(pressure.w, 3, 'the 12-column width is kept');
        assert.ok(pressure.y < flow.y, `Pressure above Flow: ${JSON.stringify(after)}`);
      }

      await page.reload();
      await page.locator('.widget[aria-label="Value card: Pressure"] output[data-key="pressure"]').waitFor();
      const shown = await page.locator(item).evaluate((el) => ['gs-x', 'gs-y', 'gs-w', 'gs-h'].map((a) => el.getAttribute(a)));
      if (name === 'wide') assert.deepEqual(shown, ['6', '0', '5', '3']);
      else {
        // One column: Pressure is drawn first and three rows high.
        const tops = await page.locator('.grid-stack-item').evaluateAll((els) => els.map((el) => [el.querySelector('.widget-title')?.textContent, el.getBoundingClientRect().top]));
        const byTop = [...tops].sort((a, b) => Number(a[1]) - Number(b[1])).map((t) => t[0]);
        assert.deepEqual(byTop, ['Pressure', 'Flow']);
        assert.equal(shown[3], '3');
        assert.ok((await horizontalOverflow(page)).scrollWidth <= viewport.width, 'no sideways scroll');
      }
      await b.shot(`72-composer-${name}-reloaded`);
    });
  });

  test(`${name}: a widget is edited after it was added (title, unit, height), keeping its id and place`, async () => {
    const id = await createDashboard(`Edit ${name}`);
    const before = await saved(id);
    await withBrowser(viewport, async (b) => {
      const { page } = b;
      await page.goto(`${tp.baseUrl}/#/dashboards/${id}`);
      await page.getByRole('button', { name: 'Edit', exact: true }).click();
      await page.getByRole('button', { name: 'Edit Flow' }).click();
      const dialog = page.getByRole('dialog', { name: 'Edit Flow' });
      const form = dialog.getByRole('form', { name: 'Edit widget' });
      // The form starts from the widget, the device by name.
      assert.equal(await form.getByLabel('Title').inputValue(), 'Flow');
      assert.equal(await form.getByLabel('Keys (comma-separated)').inputValue(), 'flow');
      await page.waitForFunction(() => document.querySelector<HTMLInputElement>('dialog input[name="device"]')?.value === 'pump-grid');
      assert.deepEqual(await axeSerious(page), [], 'axe with the dialog open');
      await b.shot(`72-composer-${name}-edit-dialog`);
      await form.getByLabel('Title').fill('Flow rate');
      await form.getByLabel('Unit').fill('l/min');
      await form.getByLabel('Height').selectOption('3');
      await form.getByRole('button', { name: 'Apply' }).click();
      await dialog.waitFor({ state: 'detached' });
      const card = page.locator('.widget[aria-label="Value card: Flow rate"]');
      await card.locator('.unit', { hasText: 'l/min' }).waitFor();
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Saved.').waitFor();
      await page.reload();
      const reloaded = page.locator('.widget[aria-label="Value card: Flow rate"]');
      await reloaded.locator('output[data-key="flow"]', { hasText: '3.5' }).waitFor();
      assert.equal((await reloaded.locator('.unit').innerText()).trim(), 'l/min');
    });
    const after = await saved(id);
    const edited = after['Flow rate'];
    assert.ok(edited, JSON.stringify(after));
    assert.equal(edited.unit, 'l/min');
    assert.equal(edited.id, before.Flow?.id, 'same widget id');
    assert.deepEqual([edited.x, edited.y, edited.w, edited.h], [0, 0, 3, 3], 'same place, the height chosen in the dialog');
  });
}

test('table, bars and a state timeline render from real data; a bar widget is added through the form', async () => {
  const now = Date.now();
  const states = [
    { ts: now - 3 * 3_600_000, values: { pump: 'on', level: 40 } },
    { ts: now - 2 * 3_600_000, values: { pump: 'off', level: 75 } },
    { ts: now - 3_600_000, values: { pump: 'on', level: 130 } },
  ];
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', pump.accessToken, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify(states)]);
  const res = await tp.api.request<{ id: string }>('POST', '/api/dashboards', {
    name: 'More widgets',
    widgets: [
      { type: 'table', title: 'Everything', deviceId: pump.id, x: 0, y: 0, w: 4, h: 3 },
      { type: 'timeline', title: 'Pump state', deviceId: pump.id, keys: ['pump'], range: '6h', x: 4, y: 0, w: 8, h: 2 },
    ],
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  await withBrowser({ width: 1280, height: 900 }, async (b) => {
    const { page } = b;
    await page.goto(`${tp.baseUrl}/#/dashboards/${res.body.id}`);
    const table = page.locator('.widget[data-widget-type="table"]');
    await table.locator('tr[data-key="level"] output', { hasText: '130' }).waitFor();
    await table.locator('tr[data-key="flow"] output', { hasText: '3.5' }).waitFor();
    const timeline = page.locator('.widget[data-widget-type="timeline"] .widget-body[data-ready="true"]');
    await timeline.waitFor();
    assert.equal(await timeline.getAttribute('data-segments'), '3');
    assert.equal(await timeline.locator('output.timeline-now').innerText(), 'on');
    assert.match((await timeline.locator('.timeline-track').getAttribute('aria-label')) ?? '', /^pump: on \d+%, off 1[67]% of the range$/);
    // A new state arrives live.
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', pump.accessToken, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify({ pump: 'service' })]);
    await timeline.locator('output.timeline-now', { hasText: 'service' }).waitFor();
    // Device-sent states are text, in the track, the legend, the table and the titles alike.
    const markup = '<img src="/xss-state" onerror="window.xssState = 1">';
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', pump.accessToken, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify({ pump: markup })]);
    await timeline.locator('output.timeline-now', { hasText: markup }).waitFor();
    await table.locator('tr[data-key="pump"] output', { hasText: markup }).waitFor();
    assert.equal(await page.locator('.dash-grid img').count(), 0, 'no element made from device text');
    assert.equal(await page.evaluate(() => (window as unknown as { xssState?: number }).xssState), undefined);

    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    const form = page.getByRole('form', { name: 'Add widget' });
    await form.getByLabel('Type').selectOption('bar');
    await form.getByLabel('Title').fill('Levels');
    await form.getByLabel('Device').fill('pump-grid');
    await form.getByLabel('Keys (comma-separated)').fill('level, flow');
    await form.getByLabel('Max').fill('100');
    await form.getByRole('button', { name: 'Add widget' }).click();
    const bars = page.locator('.widget[data-widget-type="bar"]');
    await bars.locator('output[data-key="level"]', { hasText: '130' }).waitFor();
    // Past the maximum the bar is full; the number stays the real one.
    assert.equal(await bars.getByRole('meter', { name: 'level' }).evaluate((m) => (m as HTMLMeterElement).value), 100);
    assert.equal(await bars.getByRole('meter', { name: 'flow' }).evaluate((m) => (m as HTMLMeterElement).value), 3.5);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    assert.deepEqual(await axeSerious(page), []);
    await b.shot('72-composer-more-widgets');
  });
  const after = await saved(res.body.id);
  assert.deepEqual(after.Levels && [after.Levels.x, after.Levels.w], [0, 4]);
});
