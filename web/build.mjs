#!/usr/bin/env node
// Builds the dashboard (web/ → web/dist) when the build is missing or older than its sources.
// Run by `npm install` (prepare) and `npm start` (prestart); `--force` always builds. Without vite
// (a production install) an existing build is kept, and a missing one only warns: the platform
// then answers / with a page saying how to build it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const built = join(root, 'dist', 'index.html');

function newestSource(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const s = statSync(full);
    newest = Math.max(newest, s.isDirectory() ? newestSource(full) : s.mtimeMs);
  }
  return newest;
}

// public/ (manifest, icons, service worker) is copied into the build as is.
const sources = Math.max(newestSource(join(root, 'src')), existsSync(join(root, 'public')) ? newestSource(join(root, 'public')) : 0, ...['index.html', 'vite.config.ts'].map((f) => statSync(join(root, f)).mtimeMs));
const fresh = existsSync(built) && statSync(built).mtimeMs >= sources;
if (fresh && !process.argv.includes('--force')) process.exit(0);

let vite;
try {
  vite = await import('vite');
} catch {
  console.warn(existsSync(built) ? 'web: vite is not installed; keeping the existing web/dist' : 'web: vite is not installed; the dashboard is not built (run npm install with dev dependencies)');
  process.exit(0);
}
const started = Date.now();
await vite.build({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'warn' });
console.log(`web: dashboard built into web/dist in ${Date.now() - started} ms`);
