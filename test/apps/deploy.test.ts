/**
 * The shipped service definitions run the server process itself: a signal from systemd or
 * `docker stop` must reach the server, not a wrapper that leaves it orphaned (issue 12).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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
  // The health check asks /healthz on the port the server bound, read from its ports.json.
  assert.match(final, /^HEALTHCHECK .*\\\n\s+CMD \["node", "-e", ".*ports\.json.*\/healthz/m);
  assert.match(final, /^VOLUME \["\/data"\]$/m);
  // Multi-stage: compilers and dev dependencies stay in the build stage.
  assert.equal(stages.length, 3, 'a build stage and a runtime stage');
  assert.match(stages[1] ?? '', /npm prune --omit=dev/);
  assert.doesNotMatch(final, /apt-get|g\+\+|npm (ci|install)/);
  const compose = parseYaml(readFileSync('compose.yaml', 'utf8')) as { services: Record<string, { volumes: string[]; build: string }> };
  assert.deepEqual(compose.services.continuum?.volumes, ['continuum-data:/data']);
});

test('the units in deploy/ pass systemd-analyze verify without a single warning', () => {
  const units = ['deploy/continuum.service', 'deploy/continuum-backup.service', 'deploy/continuum-backup.timer'];
  const res = spawnSync('systemd-analyze', ['verify', ...units], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  assert.equal(res.stderr + res.stdout, '');
});

test('the backup unit runs `continuum backup` as the service user on the service data dir, keeping 14', () => {
  const unit = readFileSync('deploy/continuum-backup.service', 'utf8');
  const service = readFileSync('deploy/continuum.service', 'utf8');
  const dataDir = /--data-dir (\S+)/.exec(service)?.[1];
  assert.equal(dataDir, '/var/lib/continuum');
  assert.match(unit, /^ExecStart=.*exec \/usr\/bin\/node bin\/continuum\.mjs backup --data-dir \/var\/lib\/continuum /m);
  assert.match(unit, /^User=continuum$/m);
  assert.match(unit, /^UMask=0077$/m);
  assert.match(unit, /tail -n \+15/);
  assert.match(readFileSync('deploy/continuum-backup.timer', 'utf8'), /^Persistent=true$/m);
});
