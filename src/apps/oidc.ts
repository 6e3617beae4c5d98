/** Wires single sign-on (auth.oidc) when configured: the openid-client adapter and the sign-in service. */
import { normalizeRole } from '../domain/permissions.js';
import { createOpenIdClient } from '../adapters/oidc/openid-client/client.js';
import type { Clock, Logger, Role, Store } from '../ports.js';
import type { AuthService } from '../services/auth.js';
import { OidcSignin, type OidcSettings } from '../services/auth-oidc.js';
import { ConfigError, type Config } from './config.js';

function role(name: string, where: string): Role {
  // Stored by its current name: the legacy 'admin'/'user' become 'tenant-admin'/'operator'.
  const parsed = normalizeRole(name);
  if (!parsed) throw new ConfigError(`${where}: unknown role "${name}"`);
  return parsed;
}

/** The settings with their defaults, roles checked (a typo in roleMap stops the start). */
export function oidcSettings(config: Config): OidcSettings | undefined {
  const o = config.auth.oidc;
  if (!o) return undefined;
  const roleMap = o.roleMap && Object.fromEntries(Object.entries(o.roleMap).map(([claim, r]) => [claim, role(r, `auth.oidc.roleMap.${claim}`)]));
  return {
    issuer: o.issuer,
    clientId: o.clientId,
    ...(o.redirectUri ? { redirectUri: o.redirectUri } : {}),
    scopes: o.scopes ?? 'openid email profile',
    ...(o.roleClaim ? { roleClaim: o.roleClaim } : {}),
    ...(o.tenantClaim ? { tenantClaim: o.tenantClaim } : {}),
    ...(o.customerClaim ? { customerClaim: o.customerClaim } : {}),
    defaultRole: role(o.defaultRole ?? 'viewer', 'auth.oidc.defaultRole'),
    ...(roleMap ? { roleMap } : {}),
    autoCreate: o.autoCreate ?? true,
    label: o.label ?? 'Sign in with SSO',
  };
}

export function createOidcSignin(config: Config, deps: { store: Store; auth: AuthService; clock: Clock; logger: Logger }): OidcSignin | undefined {
  const settings = oidcSettings(config);
  const o = config.auth.oidc;
  if (!settings || !o) return undefined;
  const client = createOpenIdClient({ issuer: o.issuer, clientId: o.clientId, ...(o.clientSecret ? { clientSecret: o.clientSecret } : {}), allowInsecureHttp: o.allowInsecureHttp ?? false });
  return new OidcSignin({ client, settings, ...deps });
}
