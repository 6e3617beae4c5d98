/**
 * Shared by the dashboard's browser tests (map, rules, PWA, accessibility): the build, Debian
 * Chromium through playwright-core, sign-in, console error capture, axe-core and the phone-width
 * overflow check. Screenshots go to test-output/screenshots/ like dashboard.test.ts's.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ADMIN, tempDir } from '../support/platform.js';

export const run = promisify(execFile);
export const SHOTS = join('test-output', 'screenshots');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export async function buildWeb(): Promise<void> {
  await run(process.execPath, [join('web', 'build.mjs')], { timeout: 120_000 });
  assert.ok(existsSync(join('web', 'dist', 'index.html')), 'web/dist was built');
  mkdirSync(SHOTS, { recursive: true });
}

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and uncaught exceptions since the last clear. */
  readonly errors: string[];
  shot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** `serviceWorkers: 'block'`: every request reaches the network (and page.route), none the worker's cache. */
export async function openBrowser(viewport = { width: 1280, height: 900 }, opts: { serviceWorkers?: 'allow' | 'block' } = {}): Promise<Browser> {
  const userDataDir = tempDir();
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', headless: true, args: ARGS, viewport, serviceWorkers: opts.serviceWorkers ?? 'allow' });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(String(err)));
  // Every page runs under the platform's Content-Security-Policy: a violation is an error too.
  await context.exposeBinding('__cspViolation', (_source, text: string) => void errors.push(`CSP violation: ${text}`));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      void (window as unknown as { __cspViolation(text: string): Promise<void> }).__cspViolation(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  return {
    context,
    page,
    errors,
    shot: async (name) => void (await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })),
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export async function signIn(page: Page, baseUrl: string, who: { email: string; password: string } = ADMIN): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Devices' }).waitFor();
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core in the page; returns the serious and critical violations. */
export async function axeSerious(page: Page): Promise<AxeViolation[]> {
  // Evaluated through DevTools, not as an inline <script>: the platform's CSP rightly refuses those.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(readFileSync(AXE_PATH, 'utf8'));
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; innerWidth: number }> {
  return page.evaluate(() => ({ scrollWidth: document.scrollingElement?.scrollWidth ?? 0, innerWidth: window.innerWidth }));
}
