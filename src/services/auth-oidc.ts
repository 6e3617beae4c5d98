/**
 * OpenID Connect sign-in (authorization code + PKCE, state, nonce). The browser is sent to the
 * provider with a state that names a pending sign-in kept HERE (nonce, PKCE verifier: never in
 * the browser), short-lived and bounded. The callback consumes that state once, the adapter
 * verifies the code exchange and id_token, and the provider account (issuer, subject) is linked
 * to a user (found, linked by verified e-mail, or created). Claims map to tenant and role.
 * Our JWT then waits under a one-time code of 60 s that the dashboard redeems by POST, so the
 * token never appears in a URL (history, logs, Referer).
 */
import { normalizeRole } from '../domain/permissions.js';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { DEFAULT_TENANT_ID } from '../domain/device.js';
import { isPlatformError, PlatformError } from '../domain/errors.js';
import type { Clock, Logger, OidcClaims, OidcClient, Role, Store, User } from '../ports.js';
import type { AuthService } from './auth.js';
import { higherRole } from './auth-role-ceiling.js';
import { normalizeEmail } from './auth-users.js';

export interface OidcSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly redirectUri?: string;
  readonly scopes: string;
  readonly roleClaim?: string;
  readonly tenantClaim?: string;
  readonly customerClaim?: string;
  readonly defaultRole: Role;
  /** Claim value → role. Without it a claim value that is a role name is taken as is (except sysadmin). */
  readonly roleMap?: Readonly<Record<string, Role>>;
  readonly autoCreate: boolean;
  readonly label: string;
}

export interface OidcSigninDeps {
  readonly client: OidcClient;
  readonly store: Store;
  readonly auth: AuthService;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: OidcSettings;
}

interface Pending {
  readonly nonce: string;
  readonly verifier: string;
  readonly redirectUri: string;
  readonly createdAt: number;
}

interface Handoff {
  readonly token: string;
  readonly expiresAt: number;
  readonly createdAt: number;
}

/** A sign-in at the provider must finish within this; the handoff code is redeemed within HANDOFF_TTL_MS. */
export const PENDING_TTL_MS = 10 * 60_000;
export const HANDOFF_TTL_MS = 60_000;
/** Bounds both maps: past it the oldest entries go (their sign-ins start again). */
const MAX_ENTRIES = 10_000;

const b64url = (bytes: Buffer): string => bytes.toString('base64url');

function oidcRefused(detail: string): PlatformError {
  return new PlatformError('FORBIDDEN', detail);
}

function claimStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** Reads `a.b.c` in the claims (Keycloak puts roles in realm_access.roles, for example). */
function claimAt(claims: OidcClaims, path: string): unknown {
  let at: unknown = claims;
  for (const part of path.split('.')) {
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

function bounded<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= MAX_ENTRIES) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}

export interface OidcCompleted {
  readonly user: User;
  /** The one-time code the dashboard exchanges for the token. */
  readonly code: string;
  readonly created: boolean;
}

export class OidcSignin {
  private readonly pending = new Map<string, Pending>();
  private readonly handoffs = new Map<string, Handoff>();

  constructor(private readonly deps: OidcSigninDeps) {}

  get label(): string {
    return this.deps.settings.label;
  }

  /** The provider URL to send the browser to. `fallbackRedirectUri` is used when none is configured. */
  async begin(fallbackRedirectUri: string): Promise<string> {
    this.sweep();
    const redirectUri = this.deps.settings.redirectUri ?? fallbackRedirectUri;
    const state = b64url(randomBytes(24));
    const nonce = b64url(randomBytes(24));
    const verifier = b64url(randomBytes(32));
    const codeChallenge = b64url(createHash('sha256').update(verifier).digest());
    bounded(this.pending, state, { nonce, verifier, redirectUri, createdAt: this.deps.clock.now() });
    return this.deps.client.authorizationUrl({ redirectUri, scope: this.deps.settings.scopes, state, nonce, codeChallenge });
  }

  /** The provider's redirect back: verified, mapped, linked; refused with FORBIDDEN/UNAUTHORIZED and a reason. */
  async complete(callbackUrl: URL): Promise<OidcCompleted> {
    const error = callbackUrl.searchParams.get('error');
    const state = callbackUrl.searchParams.get('state') ?? '';
    // Consumed before anything else: a state (and so its code) is good for one attempt.
    const pending = this.pending.get(state);
    this.pending.delete(state);
    if (error) throw new PlatformError('UNAUTHORIZED', `the provider refused the sign-in: ${error.slice(0, 200)}`);
    if (!pending || this.deps.clock.now() - pending.createdAt > PENDING_TTL_MS) {
      throw new PlatformError('UNAUTHORIZED', 'unknown or expired sign-in state: start the sign-in again');
    }
    let claims: OidcClaims;
    try {
      claims = await this.deps.client.exchange(callbackUrl, { redirectUri: pending.redirectUri, state, nonce: pending.nonce, codeVerifier: pending.verifier });
    } catch (err) {
      this.deps.logger.info({ err }, 'OIDC code exchange refused');
      throw new PlatformError('UNAUTHORIZED', 'the provider answer did not verify (code, PKCE, id_token)', { cause: err });
    }
    const { user, created } = await this.userFor(claims);
    if (user.disabled) throw new PlatformError('UNAUTHORIZED', 'this account is disabled');
    const session = await this.deps.auth.issueToken(user);
    const code = b64url(randomBytes(32));
    bounded(this.handoffs, code, { ...session, createdAt: this.deps.clock.now() });
    return { user, code, created };
  }

  /** The one-time code → our token; a code works once and for HANDOFF_TTL_MS. */
  redeem(code: string): { token: string; expiresAt: number } {
    const handoff = this.handoffs.get(code);
    this.handoffs.delete(code);
    if (!handoff || this.deps.clock.now() - handoff.createdAt > HANDOFF_TTL_MS) throw new PlatformError('UNAUTHORIZED', 'unknown or expired sign-in code');
    return { token: handoff.token, expiresAt: handoff.expiresAt };
  }

  private async userFor(claims: OidcClaims): Promise<{ user: User; created: boolean }> {
    const s = this.deps.settings;
    const tenantId = this.tenantOf(claims);
    const role = this.roleOf(claims);
    // A customer user is bound to the customer its claim names (refused when it names none).
    const customerId = role === 'customer-user' ? await this.customerOf(claims, tenantId) : undefined;
    const linked = await this.deps.store.findIdentity(claims.iss, claims.sub);
    let user = linked && (await this.deps.store.getUser(linked.userId));
    const email = typeof claims.email === 'string' ? normalizeEmail(claims.email) : undefined;
    if (!user && email && claims.email_verified === true) {
      // Only an address the provider verified may claim an existing local account.
      user = await this.deps.store.findUserByEmail(email);
    }
    let created = false;
    if (!user) {
      if (!s.autoCreate) throw oidcRefused('no account is linked to this sign-in and automatic creation is off');
      if (!email) throw oidcRefused('the provider sent no email claim: cannot create an account');
      if (await this.deps.store.findUserByEmail(email)) throw oidcRefused(`an account ${email} exists but the provider has not verified this address`);
      user = {
        id: randomUUID(),
        tenantId,
        email,
        // Not a hash any password matches: this account signs in through the provider only.
        passwordHash: '!oidc',
        role,
        ...(customerId !== undefined ? { customerId } : {}),
        createdAt: this.deps.clock.now(),
        disabled: false,
        tokenVersion: 0,
      };
      try {
        await this.deps.store.insertUser(user);
      } catch (err) {
        if (isPlatformError(err, 'NOT_FOUND')) throw oidcRefused(`unknown tenant ${tenantId}`);
        throw err;
      }
      created = true;
    } else {
      if (user.tenantId !== tenantId) throw oidcRefused('the provider places this account in another tenant');
      // A customer user is created as one and never turned into or out of one, nor moved: an administrator decides.
      if ((user.role === 'customer-user' || role === 'customer-user') && (user.role !== role || user.customerId !== customerId)) {
        throw oidcRefused(
          user.role === 'customer-user' && role === 'customer-user'
            ? 'the provider places this customer user under another customer: an administrator must create the account again'
            : `the provider gives this account the role ${role} but it is ${user.role}: a customer user keeps its role; an administrator must create a new account`,
        );
      }
      if (s.roleClaim && role !== user.role && !user.disabled) {
        // The provider is the source of roles when a role claim is configured: promotions and demotions follow it.
        user = await this.deps.auth.users.update(user.tenantId, user.id, { role });
      }
    }
    if (!linked || linked.userId !== user.id) {
      await this.deps.store.linkIdentity({ issuer: claims.iss, subject: claims.sub, userId: user.id, createdAt: this.deps.clock.now() });
    }
    return { user, created };
  }

  private tenantOf(claims: OidcClaims): string {
    const claim = this.deps.settings.tenantClaim;
    if (!claim) return DEFAULT_TENANT_ID;
    const [value] = claimStrings(claimAt(claims, claim));
    if (!value) throw oidcRefused(`the provider sent no ${claim} claim: no tenant to sign in to`);
    return value;
  }

  /**
   * The tenant's customer the customer claim names: a value that is the id of one of the tenant's
   * customers is taken as that id; otherwise the customer with exactly that name (names are unique
   * per tenant). No claim configured, no value, or no such customer: refused.
   */
  private async customerOf(claims: OidcClaims, tenantId: string): Promise<string> {
    const claim = this.deps.settings.customerClaim;
    if (!claim) throw oidcRefused('this role is a customer user, but no customerClaim is configured to say which customer');
    const [value] = claimStrings(claimAt(claims, claim));
    if (!value) throw oidcRefused(`the provider sent no ${claim} claim: no customer to sign in to`);
    const byId = await this.deps.store.getCustomer(value);
    if (byId && byId.tenantId === tenantId) return byId.id;
    const byName = (await this.deps.store.listCustomers(tenantId)).find((c) => c.name === value);
    if (byName) return byName.id;
    throw oidcRefused(`the ${claim} claim names no customer of this tenant: ${value.slice(0, 100)}`);
  }

  private roleOf(claims: OidcClaims): Role {
    const s = this.deps.settings;
    if (!s.roleClaim) return s.defaultRole;
    let best: Role | undefined;
    for (const value of claimStrings(claimAt(claims, s.roleClaim))) {
      const mapped = s.roleMap ? (Object.hasOwn(s.roleMap, value) ? s.roleMap[value] : undefined) : normalizeRole(value);
      // A raw claim never makes a system administrator: only an explicit roleMap entry does.
      if (!mapped || (!s.roleMap && mapped === 'sysadmin')) continue;
      best = best === undefined ? mapped : higherRole(best, mapped);
    }
    return best ?? s.defaultRole;
  }

  private sweep(): void {
    const now = this.deps.clock.now();
    for (const [k, v] of this.pending) if (now - v.createdAt > PENDING_TTL_MS) this.pending.delete(k);
    for (const [k, v] of this.handoffs) if (now - v.createdAt > HANDOFF_TTL_MS) this.handoffs.delete(k);
  }
}
