/**
 * Black-box reproductions of issue 12, run against one checkout:
 *   node --import tsx bench/security/repro.ts --checkout DIR [--json out.json]
 * Starts DIR's platform as a user would (bin/continuum.mjs start, fresh data dir, ports 0 on
 * 127.0.0.1), runs one probe per reproduction through public interfaces only (REST, MQTT.js,
 * WebSocket, raw sockets, the database files once the server has stopped), stops it, and prints
 * a table: id, title, vulnerable, evidence. The same script runs on the old and the new commit.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cleanupAll } from '../lib/cleanup.js';
import { probeGatewayClaim, probeLostData, probeRetained, probeSsrf } from './probes-device.js';
import { probeAudit, probeBruteForce, probeCredentialRead, probeCsp, probeEdgeTakeover, probeMetrics, probeRevocation, probeSlowBody, probeWsUrlToken, type Ctx, type Finding } from './probes-web.js';
import { ADMIN, call, createDevice, login, OPERATOR, sleep, spawnServer, startServer, waitForPorts } from './server.js';

const HARD_DEADLINE_MS = 5 * 60_000;

/** 6 (host half): the data dir and the files in it, group/other permission bits. */
function fileModes(dataDir: string): { loose: string[]; listing: string } {
  const entries = [{ name: '(dir)', mode: statSync(dataDir).mode & 0o777 }];
  for (const name of readdirSync(dataDir)) entries.push({ name, mode: statSync(join(dataDir, name)).mode & 0o777 });
  const loose = entries.filter((e) => (e.mode & 0o077) !== 0 && e.name !== 'ports.json').map((e) => e.name);
  return { loose, listing: entries.map((e) => `${e.name} ${e.mode.toString(8)}`).join(', ') };
}

/** 3 (storage half): the access token's bytes in continuum.db / -wal / -shm after the stop. */
function tokenInDatabase(dataDir: string, token: string): string[] {
  const needle = Buffer.from(token);
  return ['continuum.db', 'continuum.db-wal', 'continuum.db-shm'].filter((f) => existsSync(join(dataDir, f)) && readFileSync(join(dataDir, f)).includes(needle));
}

/** 12. A second `continuum start` on the same data dir, while the first runs. */
async function probeSecondServer(checkout: string, dataDir: string): Promise<Finding> {
  const portsBefore = readFileSync(join(dataDir, 'ports.json'), 'utf8');
  const second = spawnServer(checkout, dataDir, 'second platform');
  const ports = await waitForPorts(second, dataDir, 5000, portsBefore);
  const running = second.child.exitCode === null && second.child.signalCode === null;
  const exitCode = second.child.exitCode;
  await second.stop(3000);
  const firstLine = second.output().split('\n').find((l) => /lock|already|another|refus/i.test(l)) ?? second.output().split('\n')[0] ?? '';
  const firstPortsKept = existsSync(join(dataDir, 'ports.json'));
  const outcome = ports ? `started: wrote ports.json (http ${ports.http})` : running ? 'still running after 5 s' : `exited ${exitCode}: "${firstLine.trim().slice(0, 110)}"`;
  const evidence = `second continuum start on the same data dir → ${outcome}${firstPortsKept ? '' : "; the first server's ports.json is gone"}`;
  return { id: '12', title: 'Two servers on one data dir', vulnerable: ports !== null || running, evidence };
}

async function run(checkout: string): Promise<Finding[]> {
  // The server creates the data dir itself (its mode is part of probe 6).
  const scratch = mkdtempSync(join(tmpdir(), 'continuum-repro-'));
  const dataDir = join(scratch, 'data');
  const server = await startServer(checkout, dataDir);
  const baseUrl = `http://127.0.0.1:${server.ports.http}`;
  const findings: Finding[] = [];
  try {
    const adminToken = await login(baseUrl, ADMIN.email, ADMIN.password);
    const createdOperator = await call(baseUrl, 'POST', '/api/users', adminToken, { ...OPERATOR, role: 'user' });
    if (createdOperator.status !== 201) throw new Error(`create operator: ${createdOperator.status} ${createdOperator.text}`);
    const ctx: Ctx = { baseUrl, adminToken, operatorToken: await login(baseUrl, OPERATOR.email, OPERATOR.password) };
    const slowBody = probeSlowBody(server.ports.http); // 40–45 s: runs alongside the others

    findings.push(await probeCsp(ctx));
    const gateway = await createDevice(baseUrl, adminToken, 'gateway-1', true);
    findings.push(await probeEdgeTakeover(ctx, gateway.id));
    const standalone = await createDevice(baseUrl, adminToken, 'standalone-1');
    const credentialRead = await probeCredentialRead(ctx, standalone.id, standalone.token);
    findings.push(await probeGatewayClaim(ctx, server.ports.mqtt, gateway.token, { id: standalone.id, name: 'standalone-1' }));
    findings.push(await probeLostData(ctx, server.ports.mqtt));
    const revocation = await probeRevocation(ctx);
    findings.push(await probeSsrf(ctx, await createDevice(baseUrl, adminToken, 'ssrf-1')));
    const lower = [await probeMetrics(ctx), await probeWsUrlToken(ctx), await probeRetained(ctx, server.ports.mqtt)];
    findings.push({
      id: '11',
      title: 'Lower ones: /metrics, WebSocket URL token, retained cap',
      vulnerable: lower.some((l) => l.vulnerable),
      evidence: lower.map((l, i) => `(${'abc'[i]}) ${l.vulnerable ? 'VULNERABLE' : 'ok'}: ${l.evidence}`).join(' | '),
    });
    // Last of the sign-ins: a lockout of 127.0.0.1 must not stop the probes above from logging in.
    findings.push(await probeBruteForce(ctx));
    findings.push(await probeAudit(ctx));
    findings.push(await probeSecondServer(checkout, dataDir));
    findings.push(await slowBody);

    const stopCode = await server.proc.stop(20_000);
    const filesWithToken = tokenInDatabase(dataDir, standalone.token);
    findings.push({
      id: '3',
      title: 'Device credentials: operator read, plaintext at rest',
      vulnerable: credentialRead.vulnerable || filesWithToken.length > 0,
      evidence: `${credentialRead.evidence}; after the stop (exit ${stopCode}) the token ${filesWithToken.length > 0 ? `is in ${filesWithToken.join(', ')}` : 'is in none of continuum.db/-wal/-shm'}`,
    });
    const modes = fileModes(dataDir);
    findings.push({
      id: '6',
      title: 'Revocation of a deleted user; data dir permissions',
      vulnerable: revocation.vulnerable || modes.loose.length > 0,
      evidence: `${revocation.evidence}; modes: ${modes.listing}`,
    });
  } finally {
    await server.proc.stop(20_000);
    rmSync(scratch, { recursive: true, force: true });
  }
  return findings.sort((a, b) => Number(a.id) - Number(b.id));
}

function printTable(findings: readonly Finding[]): void {
  console.log('id | reproduction | vulnerable | evidence');
  for (const f of findings) console.log(`${f.id.padStart(2)} | ${f.title} | ${f.vulnerable ? 'YES' : 'no'} | ${f.evidence}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { checkout: { type: 'string' }, json: { type: 'string' } } });
  if (!values.checkout) throw new Error('usage: repro.ts --checkout DIR [--json out.json]');
  const checkout = resolve(values.checkout);
  const deadline = setTimeout(() => {
    console.error('hard deadline reached: stopping');
    void cleanupAll().then(() => process.exit(2));
  }, HARD_DEADLINE_MS);
  const started = Date.now();
  const findings = await run(checkout);
  clearTimeout(deadline);
  printTable(findings);
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(`${findings.filter((f) => f.vulnerable).length} of ${findings.length} vulnerable; ${seconds} s`);
  if (values.json) {
    const report = { checkout, commit: gitHead(checkout), ranAt: new Date().toISOString(), seconds, findings };
    writeFileSync(values.json, JSON.stringify(report, null, 2) + '\n');
  }
  await sleep(0);
}

function gitHead(checkout: string): string {
  try {
    return execFileSync('git', ['-C', checkout, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

main().then(
  () => process.exit(0),
  async (err: unknown) => {
    console.error(err);
    await cleanupAll();
    process.exit(1);
  },
);
