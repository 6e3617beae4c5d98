#!/usr/bin/env node
// Generates src/protocols/management-api/operations/ (the typed client's operation types and
// table, one file per OpenAPI tag; layout in scripts/gen-client/client-files.ts) from the OpenAPI
// document a platform serves, started in this process on a memory store:
//
//   node scripts/gen-client.mjs           write the folder (and delete files it no longer prints)
//   node scripts/gen-client.mjs --check   exit 1 if the committed folder is stale (no write)
//
// Our own generator, not openapi-typescript: that one declares a TypeScript 5 peer dependency and
// this project is on TypeScript 6, so npm refuses to install it (see docs/API-CLIENT.md).
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// The platform and the printer are TypeScript: load them through tsx, as bin/continuum.mjs does.
register();
const { platformOpenApi } = await import('./gen-client/document.ts');
const { printClientFiles } = await import('./gen-client/client-files.ts');
const { describe, differences, writeFolder } = await import('./gen-client/folder.ts');

const target = fileURLToPath(new URL('../src/protocols/management-api/operations/', import.meta.url));
// Before December 2026 the generator wrote one file beside the folder; a branch made before then
// may bring it back at merge, and it would shadow nothing but confuse readers.
const legacy = fileURLToPath(new URL('../src/protocols/management-api/operations.ts', import.meta.url));
const files = printClientFiles(await platformOpenApi());

if (process.argv.includes('--check')) {
  const stale = differences(target, files).map(describe);
  if (existsSync(legacy)) stale.push(`${legacy}: the old single-file client, replaced by the folder`);
  if (stale.length > 0) {
    console.error(`${target} is stale: run node scripts/gen-client.mjs\n  ${stale.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`${target} is up to date (${files.size} files)`);
} else {
  const changes = writeFolder(target, files);
  if (existsSync(legacy)) {
    rmSync(legacy);
    console.log(`deleted ${legacy} (replaced by the folder)`);
  }
  if (changes.length === 0) console.log(`${target} unchanged (${files.size} files)`);
  for (const { file, kind } of changes) console.log(`${kind === 'extra' ? 'deleted' : 'wrote'} ${target}${file}`);
}
