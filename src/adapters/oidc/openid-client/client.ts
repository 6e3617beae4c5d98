/**
 * The OidcClient port on openid-client (v6): discovery once (retried after a failure), the
 * authorization URL with state, nonce and an S256 PKCE challenge, and the code exchange, which
 * checks state, the id_token's signature, issuer, audience, expiry and nonce, and sends the
 * PKCE verifier. Claims from the userinfo endpoint are merged under the id_token's (providers
 * often return scope claims such as email or custom ones only there).
 */
import * as oidc from 'openid-client';
import type { OidcAuthorizationRequest, OidcCallbackCheck, OidcClaims, OidcClient } from '../../../ports.js';

export interface OpenIdClientSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  /** Plain http to the provider: only for tests and development on loopback. */
  readonly allowInsecureHttp?: boolean;
}

export function createOpenIdClient(settings: OpenIdClientSettings): OidcClient {
  let configuration: Promise<oidc.Configuration> | undefined;

  function discover(): Promise<oidc.Configuration> {
    const auth = settings.clientSecret ? oidc.ClientSecretBasic(settings.clientSecret) : oidc.None();
    const options = settings.allowInsecureHttp ? { execute: [oidc.allowInsecureRequests] } : undefined;
    return oidc.discovery(new URL(settings.issuer), settings.clientId, undefined, auth, options);
  }

  function config(): Promise<oidc.Configuration> {
    configuration ??= discover().catch((err: unknown) => {
      // A provider that was down at the first sign-in is asked again at the next one.
      configuration = undefined;
      throw err;
    });
    return configuration;
  }

  return {
    issuer: settings.issuer,

    async authorizationUrl(request: OidcAuthorizationRequest): Promise<string> {
      const url = oidc.buildAuthorizationUrl(await config(), {
        redirect_uri: request.redirectUri,
        scope: request.scope,
        state: request.state,
        nonce: request.nonce,
        code_challenge: request.codeChallenge,
        code_challenge_method: 'S256',
      });
      return url.href;
    },

    async exchange(callbackUrl: URL, check: OidcCallbackCheck): Promise<OidcClaims> {
      const cfg = await config();
      // The redirect_uri sent with the code is the callback URL without its query: build it from ours, not from the request's Host.
      const current = new URL(check.redirectUri);
      current.search = callbackUrl.search;
      const tokens = await oidc.authorizationCodeGrant(cfg, current, {
        pkceCodeVerifier: check.codeVerifier,
        expectedState: check.state,
        expectedNonce: check.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (!idClaims) throw new Error('the provider returned no id_token');
      let userinfo: Record<string, unknown> = {};
      if (tokens.access_token && cfg.serverMetadata().userinfo_endpoint) {
        userinfo = { ...(await oidc.fetchUserInfo(cfg, tokens.access_token, idClaims.sub)) };
      }
      return { ...userinfo, ...idClaims, iss: idClaims.iss, sub: idClaims.sub };
    },
  };
}
