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

export async function signIn(email: string, password: string): Promise<Session> {
  const res = await fetch('/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = (await res.json().catch(() => ({}))) as { token?: string; expiresAt?: number; message?: string; error?: string };
  if (!res.ok || !body.token || !body.expiresAt) {
    throw new ApiError(res.status, body.error ?? 'ERROR', res.status === 401 ? 'Wrong email or password.' : (body.message ?? `Sign-in failed (${res.status}).`));
  }
  const session: Session = { token: body.token, expiresAt: body.expiresAt, email };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  return session;
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
    throw new ApiError(res.status, err.error ?? 'ERROR', err.message ?? `${method} ${path}: ${res.status}`);
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
