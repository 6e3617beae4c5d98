#!/usr/bin/env node
// Generates src/protocols/management-api/operations.ts (the typed client's operation table) from
// the OpenAPI document a platform serves, started in this process on a memory store:
//
//   node scripts/gen-client.mjs           write the file
//   node scripts/gen-client.mjs --check   exit 1 if the committed file is stale (no write)
//
// Our own generator, not openapi-typescript: that one declares a TypeScript 5 peer dependency and
// this project is on TypeScript 6, so npm refuses to install it (see docs/API-CLIENT.md).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// The platform and the printer are TypeScript: load them through tsx, as bin/continuum.mjs does.
register();
const { platformOpenApi } = await import('./gen-client/document.ts');
const { printOperations } = await import('./gen-client/print-operations.ts');

const target = fileURLToPath(new URL('../src/protocols/management-api/operations.ts', import.meta.url));
const text = printOperations(await platformOpenApi());
let current = '';
try {
  current = readFileSync(target, 'utf8');
} catch {
  // No file yet: written below (or reported stale with --check).
}
if (process.argv.includes('--check')) {
  if (current !== text) {
    console.error(`${target} is stale: run node scripts/gen-client.mjs`);
    process.exit(1);
  }
  console.log(`${target} is up to date`);
} else if (current === text) {
  console.log(`${target} unchanged`);
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target} (${text.split('\n').length} lines)`);
}
