#!/usr/bin/env node
// Entry point for `npx continuum` and `npm start`: runs the TypeScript sources through tsx,
// so there is one code path and no stale build to forget.
import { register } from 'tsx/esm/api';
register();
await import('../src/apps/cli.ts');
