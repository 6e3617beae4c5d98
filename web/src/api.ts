/** The REST client: the JWT lives in sessionStorage; a 401 (or its expiry) ends the session. */
export interface Session {
  readonly token: string;
  readonly expiresAt: number;
  readonly email: string;
}

const KEY = 'continuum.session';
const listeners = new Set<(reason: string | undefined) => void>();

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
  /** The whole error answer (rules add `path` and `position`). */
  body: unknown = undefined;
}

export function currentSession(): Session | undefined {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return undefined;
  try {
    const s = JSON.parse(raw) as Session;
    if (typeof s.token !== 'string' || typeof s.expiresAt !== 'number' || s.expiresAt <= Date.now()) {
      sessionStorage.removeItem(KEY);
      return undefined;
    }
    return s;
  } catch {
    sessionStorage.removeItem(KEY);
    return undefined;
  }
}

/** Called with the reason ("expired", "signed-out") whenever the session ends. */
export function onSignOut(listener: (reason: string | undefined) => void): void {
  listeners.add(listener);
}

export function signOut(reason?: string): void {
  const had = sessionStorage.getItem(KEY) !== null;
  sessionStorage.removeItem(KEY);
  if (had) for (const l of listeners) l(reason);
}

function postLogin(email: string, password: string, totp?: string): Promise<Response> {
  return fetch('/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, ...(totp ? { totp } : {}) }),
  });
}

/** Single sign-on, when the server has it: the label of its button. */
export async function oidcConfig(): Promise<{ enabled: boolean; label?: string }> {
  try {
    const res = await fetch('/api/auth/oidc/config');
    return res.ok ? ((await res.json()) as { enabled: boolean; label?: string }) : { enabled: false };
  } catch {
    return { enabled: false };
  }
}

/**
 * The end of a single sign-on: the one-time code from the URL fragment becomes our session (the
 * token itself never was in a URL).
 */
export async function finishOidcSignIn(code: string): Promise<Session> {
  const res = await fetch('/api/auth/oidc/exchange', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
  const body = (await res.json().catch(() => ({}))) as { token?: string; expiresAt?: number; message?: string; error?: string };
  if (!res.ok || !body.token || !body.expiresAt) throw new ApiError(res.status, body.error ?? 'ERROR', body.message ?? `Sign-in failed (${res.status}).`);
  const me = await fetch('/api/auth/me', { headers: { authorization: `Bearer ${body.token}` } });
  const { email } = (await me.json().catch(() => ({}))) as { email?: string };
  const session: Session = { token: body.token, expiresAt: body.expiresAt, email: email ?? '' };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  return session;
}

/** Retry-After in whole seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = /^\d+$/.test(header.trim()) ? Number(header.trim()) : Math.ceil((Date.parse(header) - now) / 1000);
  return Number.isFinite(seconds) ? Math.max(1, seconds) : undefined;
}

/**
 * A 503 means the platform is busy hashing other passwords: one retry after a second usually
 * gets through. A 429 (the account or the address is locked out) is shown with the wait.
 */
export async function signIn(email: string, password: string, totp?: string): Promise<Session> {
  let res = await postLogin(email, password, totp);
  if (res.status === 503) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    res = await postLogin(email, password, totp);
  }
  const body = (await res.json().catch(() => ({}))) as { token?: string; expiresAt?: number; message?: string; error?: string };
  if (res.status === 429) {
    const wait = retryAfterSeconds(res.headers.get('retry-after'));
    throw new ApiError(429, body.error ?? 'RATE_LIMITED', wait === undefined ? 'Too many attempts — try again later.' : `Too many attempts — try again in ${wait} s.`);
  }
  if (body.error === 'SECOND_FACTOR_REQUIRED') {
    throw new ApiError(401, body.error, totp ? 'That code is not valid (or was used already).' : 'Enter the 6-digit code from your authenticator app.');
  }
  if (!res.ok || !body.token || !body.expiresAt) {
    const message = res.status === 401 ? 'Wrong email or password.' : res.status === 503 ? 'The platform is busy — try again in a moment.' : (body.message ?? `Sign-in failed (${res.status}).`);
    throw new ApiError(res.status, body.error ?? 'ERROR', message);
  }
  const session: Session = { token: body.token, expiresAt: body.expiresAt, email };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  return session;
}

/**
 * Sign out on the server first (POST /api/auth/logout revokes every token of the account, so a
 * copied token is useless too), then here. A failed call still ends the local session.
 */
export async function signOutOnServer(): Promise<void> {
  const session = currentSession();
  if (!session) return;
  try {
    await fetch('/api/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${session.token}` } });
  } catch {
    // Offline: the token still expires on its own.
  }
}

const renewListeners = new Set<(session: Session) => void>();

/** Called when the token is replaced without signing out (a password change answers a new one). */
export function onSessionRenewed(listener: (session: Session) => void): void {
  renewListeners.add(listener);
}

/** Keeps the new token where the app keeps its session, with the role already read for it. */
export function renewSession(token: string, expiresAt: number): void {
  const old = currentSession();
  if (!old) return;
  const role = kept();
  const session: Session = { token, expiresAt, email: old.email };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  if (role !== undefined) sessionStorage.setItem(ROLE_KEY, JSON.stringify({ ...role, token }));
  for (const l of renewListeners) l(session);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const session = currentSession();
  if (!session) {
    signOut('expired');
    throw new ApiError(401, 'UNAUTHORIZED', 'Your session has ended.');
  }
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${session.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (res.status === 401) {
    signOut('expired');
    throw new ApiError(401, 'UNAUTHORIZED', 'Your session has ended.');
  }
  if (!res.ok) {
    const err = (parsed ?? {}) as { error?: string; message?: string };
    throw Object.assign(new ApiError(res.status, err.error ?? 'ERROR', err.message ?? `${method} ${path}: ${res.status}`), { body: parsed });
  }
  return parsed as T;
}

export const get = <T>(path: string): Promise<T> => api<T>('GET', path);
export const post = <T>(path: string, body?: unknown): Promise<T> => api<T>('POST', path, body ?? {});

export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Shapes of the REST answers the dashboard reads (see /api/openapi.json). */
export interface Device {
  id: string;
  name: string;
  label: string | null;
  profileId: string;
  gateway: boolean;
  online: boolean;
  lastActivity: number | null;
  transport: string | null;
  /** Why an offline device is offline, when known (gateway_offline, device_disconnected, disconnected). */
  offlineReason?: string | null;
  createdAt: number;
}

export interface Alarm {
  id: string;
  type: string;
  severity: string;
  status: string;
  deviceId: string;
  count: number;
  details: unknown;
  createdAt: number;
  updatedAt: number;
}

export interface Command {
  id: string;
  deviceId: string;
  method: string;
  params: unknown;
  status: string;
  response?: unknown;
  error?: string;
  createdAt: number;
  updatedAt: number;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export type TsValue = { ts: number; value: unknown };

// ---- map, rules, roles, fleet counts and import (issue 7); put/del are shared with the dashboards page

export interface UiConfig {
  tileUrl: string | null;
  tileAttribution: string | null;
}

/** Public settings (no token needed); none → the map draws without tiles. */
export async function uiConfig(): Promise<UiConfig> {
  try {
    const res = await fetch('/api/ui-config');
    if (res.ok) return (await res.json()) as UiConfig;
  } catch {
    // Offline or an older server: no tiles.
  }
  return { tileUrl: null, tileAttribution: null };
}

const ROLE_KEY = 'continuum.role';

interface KeptRole {
  token?: string;
  role?: string;
  permissions?: string[];
  customerId?: string;
}

function kept(): KeptRole | undefined {
  const token = currentSession()?.token;
  try {
    const k = JSON.parse(sessionStorage.getItem(ROLE_KEY) ?? 'null') as KeptRole | null;
    return token !== undefined && k?.token === token ? k : undefined;
  } catch {
    return undefined;
  }
}

/** The role from GET /api/auth/me ("sysadmin", "tenant-admin", …, "custom:<id>"), kept with the token it was read for. */
export function currentRole(): string | undefined {
  return kept()?.role;
}

/** The customer a customer user belongs to (undefined for everyone else). */
export function currentCustomerId(): string | undefined {
  return kept()?.customerId;
}

/**
 * Whether the caller's role grants `permission` ("customers:write"): write implies operate and
 * read, operate implies read — the same rule as the API's (domain/permissions.ts). Only decides
 * what the dashboard offers; the API enforces it.
 */
export function can(permission: string): boolean {
  const granted = new Set(kept()?.permissions ?? []);
  if (granted.has(permission)) return true;
  const [resource, action] = permission.split(':');
  if (action === 'read') return granted.has(`${resource}:operate`) || granted.has(`${resource}:write`);
  if (action === 'operate') return granted.has(`${resource}:write`);
  return false;
}

/** Reads the role and permissions; when that fails (not a 401, which signs out), the session is read-only. */
export async function loadRole(): Promise<string> {
  const token = currentSession()?.token;
  let me: { role: string; permissions?: string[]; customerId?: string } = { role: 'unknown', permissions: [] };
  try {
    me = await get<{ role: string; permissions: string[]; customerId?: string }>('/api/auth/me');
  } finally {
    if (token !== undefined && currentSession()?.token === token) {
      const k: KeptRole = { token, role: me.role, permissions: me.permissions ?? [], ...(me.customerId !== undefined ? { customerId: me.customerId } : {}) };
      sessionStorage.setItem(ROLE_KEY, JSON.stringify(k));
    }
  }
  return me.role;
}

/** Users, the audit log and device credentials are for admins only. */
export function isAdmin(): boolean {
  const role = currentRole();
  return role === 'sysadmin' || role === 'tenant-admin' || role === 'admin';
}

/** Only admins see create/edit/delete controls of the configuration (devices, rules, dashboards, credentials). */
export function canWrite(): boolean {
  return isAdmin();
}

/**
 * Operating devices — commands, shared attributes (set points), acknowledging alarms — is open to
 * operators (role `user`) too; the API enforces the same split (src/api/roles.ts).
 */
export function canOperate(): boolean {
  const role = currentRole();
  return isAdmin() || role === 'operator' || role === 'customer-user' || role === 'user';
}

export interface DeviceCounts {
  total: number;
  online: number;
  offline: number;
}

export interface ImportResult {
  created: number;
  errors: { row: number; name?: string; message: string }[];
}

export interface Credential {
  type: string;
  [k: string]: unknown;
}

export interface RuleAction {
  type: string;
  [k: string]: unknown;
}

export interface Rule {
  id: string;
  name: string;
  description?: string;
  enabled: boolean;
  deviceId?: string;
  profileId?: string;
  trigger: string;
  condition: string;
  for?: string;
  actions: RuleAction[];
  createdAt: number;
  updatedAt: number;
}

export interface RuleErrorBody {
  error: string;
  message: string;
  path?: string;
  position?: { line: number; column: number; offset: number };
}

export interface BacktestResult {
  fired: { ts: number; deviceId: string; deviceName: string; edge: 'raise' | 'clear'; actions: RuleAction[] }[];
  evaluated: number;
  devices: number;
  messages: number;
  errors: { ts: number; deviceId: string; message: string }[];
  errorCount: number;
  truncated: boolean;
  tookMs: number;
}

// ---- dashboards and profile controls (composer, device page controls)
export const put = <T>(path: string, body: unknown): Promise<T> => api<T>('PUT', path, body);
export const del = (path: string): Promise<void> => api<void>('DELETE', path);

export type WidgetType = 'chart' | 'gauge' | 'value' | 'map' | 'alarms' | 'control' | 'table' | 'bar' | 'timeline';

export interface ControlSpec {
  kind: 'button' | 'toggle' | 'slider';
  method: string;
  params?: unknown;
  stateKey?: string;
  min?: number;
  max?: number;
  step?: number;
}

export interface Widget {
  id?: string;
  type: WidgetType;
  title: string;
  deviceId?: string;
  keys?: string[];
  min?: number;
  max?: number;
  unit?: string;
  range?: string;
  control?: ControlSpec;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Dashboard {
  id: string;
  name: string;
  description?: string;
  widgets: Widget[];
  createdAt: number;
  updatedAt: number;
}

export interface Profile {
  id: string;
  name: string;
  /** Declared keys; `unit` is shown next to latest values and on charts. */
  telemetryKeys: { key: string; type: string; unit?: string; label?: string; decimals?: number }[];
  controls: (ControlSpec & { label: string })[];
}

export const listDashboards = (): Promise<{ items: Dashboard[] }> => get('/api/dashboards');
export const getDashboard = (id: string): Promise<Dashboard> => get(`/api/dashboards/${encodeURIComponent(id)}`);
export const createDashboard = (body: { name: string; description?: string; widgets: Widget[] }): Promise<Dashboard> => post('/api/dashboards', body);
export const saveDashboard = (id: string, body: { name: string; description?: string; widgets: Widget[] }): Promise<Dashboard> =>
  put(`/api/dashboards/${encodeURIComponent(id)}`, body);
export const deleteDashboard = (id: string): Promise<void> => del(`/api/dashboards/${encodeURIComponent(id)}`);
export const getProfile = (id: string): Promise<Profile> => get(`/api/profiles/${encodeURIComponent(id)}`);
export const sendCommand = (deviceId: string, body: { method: string; params: unknown; persistent?: boolean; expiresInMs?: number }): Promise<Command> =>
  post(`/api/devices/${encodeURIComponent(deviceId)}/commands`, body);
