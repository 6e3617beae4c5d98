/**
 * Reproductions through the management API and the HTTP listener: headers, roles, revocation,
 * brute force, audit, /metrics, the WebSocket token, and a dribbled request body.
 */
import { connect } from 'node:net';
import WebSocket from 'ws';
import { call, field, login, OPERATOR, sleep } from './server.js';

export interface Finding {
  readonly id: string;
  readonly title: string;
  readonly vulnerable: boolean;
  readonly evidence: string;
}

/** What every probe gets: the API's base URL and the tokens the setup obtained. */
export interface Ctx {
  readonly baseUrl: string;
  readonly adminToken: string;
  readonly operatorToken: string;
}

/** 1. Every response from `/` carries a Content-Security-Policy with frame-ancestors 'none'. */
export async function probeCsp(ctx: Ctx): Promise<Finding> {
  const answer = await call(ctx.baseUrl, 'GET', '/');
  const csp = answer.headers.get('content-security-policy');
  const vulnerable = csp === null || !csp.includes("frame-ancestors 'none'");
  const evidence = `GET / → ${answer.status}; Content-Security-Policy: ${csp === null ? '(absent)' : csp.slice(0, 120)}`;
  return { id: '1', title: 'XSS defence: CSP on the dashboard', vulnerable, evidence };
}

/** 2. An operator writes the edge's configuration attribute on a gateway. */
export async function probeEdgeTakeover(ctx: Ctx, gatewayId: string): Promise<Finding> {
  const answer = await call(ctx.baseUrl, 'POST', `/api/devices/${gatewayId}/attributes/shared`, ctx.operatorToken, { edgeConnectors: [] });
  const vulnerable = answer.status >= 200 && answer.status < 300;
  const evidence = `operator POST /api/devices/{gw}/attributes/shared {"edgeConnectors":[]} → ${answer.status} ${answer.text.slice(0, 100)}`;
  return { id: '2', title: 'Operator pushes edge configuration', vulnerable, evidence };
}

/** 3 (API half). An operator reads a device credential. */
export async function probeCredentialRead(ctx: Ctx, deviceId: string, deviceToken: string): Promise<{ vulnerable: boolean; evidence: string }> {
  const answer = await call(ctx.baseUrl, 'GET', `/api/devices/${deviceId}/credentials`, ctx.operatorToken);
  const vulnerable = answer.status === 200;
  const shown = answer.text.includes(deviceToken) ? ' (the token in full)' : '';
  return { vulnerable, evidence: `operator GET /api/devices/{id}/credentials → ${answer.status}${shown}` };
}

/** 6 (API half). A deleted user's JWT still answers /api/auth/me. */
export async function probeRevocation(ctx: Ctx): Promise<{ vulnerable: boolean; evidence: string }> {
  const email = 'revoked@repro.local';
  const password = 'revoked-password-1';
  const created = await call(ctx.baseUrl, 'POST', '/api/users', ctx.adminToken, { email, password, role: 'user' });
  if (created.status !== 201) return { vulnerable: false, evidence: `could not create the user: ${created.status} ${created.text.slice(0, 100)}` };
  const jwt = await login(ctx.baseUrl, email, password);
  const before = await call(ctx.baseUrl, 'GET', '/api/auth/me', jwt);
  const deleted = await call(ctx.baseUrl, 'DELETE', `/api/users/${field(created, 'id')}`, ctx.adminToken);
  const deleteWorked = deleted.status >= 200 && deleted.status < 300;
  // The contract: the deletion takes effect within a second.
  await sleep(1200);
  const after = await call(ctx.baseUrl, 'GET', '/api/auth/me', jwt);
  const stillWorks = after.status === 200;
  const how = deleteWorked ? `DELETE /api/users/{id} → ${deleted.status}` : `DELETE /api/users/{id} → ${deleted.status}: no way to revoke`;
  return { vulnerable: !deleteWorked || stillWorks, evidence: `/api/auth/me before ${before.status}; ${how}; then /api/auth/me with the old JWT → ${after.status}` };
}

/** 7. 40 wrong passwords for the operator: is any answered 429? */
export async function probeBruteForce(ctx: Ctx): Promise<Finding> {
  const statuses = new Map<number, number>();
  let first429 = 0;
  let retryAfter: string | null = null;
  const started = Date.now();
  for (let attempt = 1; attempt <= 40; attempt++) {
    const answer = await call(ctx.baseUrl, 'POST', '/api/auth/login', undefined, { email: OPERATOR.email, password: `wrong-password-${attempt}` });
    statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    if (answer.status === 429 && first429 === 0) {
      first429 = attempt;
      retryAfter = answer.headers.get('retry-after');
    }
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const counts = [...statuses].map(([s, n]) => `${n}×${s}`).join(', ');
  const evidence = `40 wrong passwords in ${seconds} s: ${counts}` + (first429 ? `; first 429 at attempt ${first429} (Retry-After ${retryAfter ?? 'absent'})` : '; no 429');
  return { id: '7', title: 'Brute force on sign-in', vulnerable: first429 === 0, evidence };
}

/** 10. The audit log exists and holds probe 7's failed sign-ins. */
export async function probeAudit(ctx: Ctx): Promise<Finding> {
  const answer = await call(ctx.baseUrl, 'GET', '/api/audit?action=auth.login_failed&limit=100', ctx.adminToken);
  const items = ((answer.body as { items?: unknown[] } | undefined)?.items ?? []) as Record<string, unknown>[];
  const failed = items.filter((e) => e.action === 'auth.login_failed');
  const withAddress = failed.filter((e) => typeof e.address === 'string' && e.address !== '').length;
  const vulnerable = answer.status !== 200 || failed.length === 0;
  const evidence = answer.status === 200 ? `GET /api/audit → 200; ${failed.length} auth.login_failed entries (${withAddress} with an address)` : `GET /api/audit → ${answer.status} ${answer.text.slice(0, 80)}`;
  return { id: '10', title: 'Audit trail of failed sign-ins', vulnerable, evidence };
}

/** 11a. Anonymous /metrics. */
export async function probeMetrics(ctx: Ctx): Promise<{ vulnerable: boolean; evidence: string }> {
  const answer = await call(ctx.baseUrl, 'GET', '/metrics');
  const lines = answer.status === 200 ? `, ${answer.text.split('\n').length} lines` : '';
  return { vulnerable: answer.status === 200, evidence: `anonymous GET /metrics → ${answer.status}${lines}` };
}

/** 11b. A JWT in the WebSocket URL authenticates a live subscription. */
export async function probeWsUrlToken(ctx: Ctx): Promise<{ vulnerable: boolean; evidence: string }> {
  const url = `${ctx.baseUrl.replace('http:', 'ws:')}/api/ws?token=${encodeURIComponent(ctx.adminToken)}`;
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    const done = (vulnerable: boolean, evidence: string): void => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      resolve({ vulnerable, evidence });
    };
    const timer = setTimeout(() => done(false, '/api/ws?token=: no answer to subscribe within 5 s'), 5000);
    ws.on('open', () => ws.send(JSON.stringify({ id: 1, subscribe: { type: 'status' } })));
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      let message: { id?: unknown; result?: { subscriptionId?: unknown } };
      try {
        message = JSON.parse(text) as typeof message;
      } catch {
        return;
      }
      if (message.id !== 1) return;
      done(message.result?.subscriptionId !== undefined, `/api/ws?token=<JWT>, subscribe → ${text.slice(0, 100)}`);
    });
    ws.on('close', (code: number, reason: Buffer) => done(false, `/api/ws?token=<JWT> closed ${code} "${reason.toString().slice(0, 90)}"`));
    ws.on('error', (err: Error) => done(false, `/api/ws?token=<JWT>: ${err.message}`));
  });
}

/** 9. POST /api/auth/login with content-length 100 and one body byte a second. */
export function probeSlowBody(httpPort: number): Promise<Finding> {
  const title = 'Slow request body holds a connection';
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect({ host: '127.0.0.1', port: httpPort });
    let sent = 0;
    let answer = '';
    const drip = setInterval(() => {
      if (sent < 99 && !socket.destroyed) {
        socket.write('x');
        sent++;
      }
    }, 1000);
    const finish = (vulnerable: boolean, how: string): void => {
      clearInterval(drip);
      clearTimeout(bound);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      const status = /^HTTP\/1\.1 (\d+)/.exec(answer)?.[1];
      resolve({ id: '9', title, vulnerable, evidence: `${how}${status ? ` (answer ${status})` : ''}, ${sent} body bytes sent` });
    };
    // The new default request timeout is 30 s; still open at 40 s means no timeout applies.
    const checkAt = setTimeout(() => {
      if (!socket.destroyed) finish(true, `still open after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }, 40_000);
    const bound = setTimeout(() => finish(!socket.destroyed, 'bound of 45 s reached'), 45_000);
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('close', () => {
      clearTimeout(checkAt);
      finish(false, `closed by the server after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    });
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      socket.write('POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n');
    });
  });
}
