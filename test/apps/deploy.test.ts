/**
 * The shipped service definitions run the server process itself: a signal from systemd or
 * `docker stop` must reach the server, not a wrapper that leaves it orphaned (issue 12).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

test('the systemd unit starts node directly, as its own user, with a private data dir', () => {
  const unit = readFileSync('deploy/continuum.service', 'utf8');
  const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
  assert.match(execStart, /^\/usr\/bin\/node bin\/continuum\.mjs start /);
  assert.doesNotMatch(execStart, /\bnpm\b|\bsh\b/);
  assert.match(unit, /^User=continuum$/m);
  assert.match(unit, /^StateDirectoryMode=0700$/m);
  assert.match(unit, /^UMask=0077$/m);
  assert.match(unit, /^KillSignal=SIGTERM$/m);
});

test('the container runs node as its first process, not as root', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const stages = dockerfile.split(/^FROM /m);
  const final = stages[stages.length - 1] ?? '';
  assert.match(final, /^ENTRYPOINT \["node", "bin\/continuum\.mjs", "start"\]$/m);
  assert.match(final, /^USER node$/m);
  assert.match(final, /^STOPSIGNAL SIGTERM$/m);
  const compose = parseYaml(readFileSync('compose.yaml', 'utf8')) as { services: Record<string, { volumes: string[]; build: string }> };
  assert.deepEqual(compose.services.continuum?.volumes, ['continuum-data:/data']);
});
