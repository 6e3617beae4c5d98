/**
 * A platform whose sign-in goes through a real OpenID provider (test/support/oidc-provider.ts):
 * the provider starts first (its issuer URL goes into the platform's config), then the platform,
 * then the provider learns the platform's callback URL. The claim names are the tests' common
 * ones (`continuum_role`, `tenant`); each test adds its role map and whatever else it exercises.
 */
import type { Config } from '../../src/apps/config.js';
import { startOidcProvider, type AccountClaims, type TestOidcProvider } from './oidc-provider.js';
import { ADMIN, startTestPlatform, tempDir, type TestPlatform } from './platform.js';

type OidcExtras = Omit<NonNullable<Config['auth']['oidc']>, 'issuer' | 'roleClaim' | 'tenantClaim' | 'allowInsecureHttp'>;

export interface OidcPlatform {
  readonly provider: TestOidcProvider;
  readonly tp: TestPlatform;
  /** The platform's callback URL, registered with the provider. */
  readonly callback: string;
  stop(): Promise<void>;
}

export async function startOidcPlatform(accounts: Readonly<Record<string, AccountClaims>>, oidc: OidcExtras): Promise<OidcPlatform> {
  const provider = await startOidcProvider(accounts);
  const tp = await startTestPlatform({
    dataDir: tempDir(),
    config: {
      auth: {
        adminEmail: ADMIN.email,
        adminPassword: ADMIN.password,
        jwtTtlSeconds: 3600,
        passwordHashCost: 1024,
        oidc: { issuer: provider.issuer, roleClaim: 'continuum_role', tenantClaim: 'tenant', allowInsecureHttp: true, ...oidc },
      },
    },
  });
  const callback = `${tp.baseUrl}/api/auth/oidc/callback`;
  provider.register({ clientId: oidc.clientId, redirectUri: callback });
  return {
    provider,
    tp,
    callback,
    async stop() {
      await tp.stop();
      await provider.stop();
    },
  };
}
