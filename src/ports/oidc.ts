/**
 * The OpenID Connect relying party, as the sign-in service needs it: build the provider's
 * authorization URL and turn the callback into verified ID token claims. The adapter does the
 * protocol (discovery, code exchange, id_token signature, iss/aud/exp/nonce, state, PKCE).
 */

export interface OidcAuthorizationRequest {
  readonly redirectUri: string;
  readonly scope: string;
  readonly state: string;
  readonly nonce: string;
  /** RFC 7636 S256 challenge of the verifier the callback will present. */
  readonly codeChallenge: string;
}

export interface OidcCallbackCheck {
  readonly redirectUri: string;
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

/** The verified ID token claims (and, where the provider offers them, the userinfo claims merged in). */
export type OidcClaims = Readonly<Record<string, unknown>> & { readonly iss: string; readonly sub: string };

export interface OidcClient {
  readonly issuer: string;
  authorizationUrl(request: OidcAuthorizationRequest): Promise<string>;
  /** `callbackUrl` is the full URL the provider redirected to; rejects when anything does not verify. */
  exchange(callbackUrl: URL, check: OidcCallbackCheck): Promise<OidcClaims>;
}
