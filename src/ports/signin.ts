/**
 * Sign-in beyond passwords (issue 15, item 4): identities at OpenID Connect providers linked to
 * our users, and the TOTP second factor of local accounts. Part of the Store; the OIDC protocol
 * itself is the OidcClient port (an adapter speaks it).
 */

/** One provider account, (issuer, subject), linked to one of our users. */
export interface UserIdentity {
  readonly issuer: string;
  readonly subject: string;
  readonly userId: string;
  readonly createdAt: number;
}

/** A user's TOTP enrolment. The secret is sealed by the service (never stored in clear when a key exists). */
export interface TotpEnrolment {
  readonly userId: string;
  /** The sealed shared secret (services/auth-totp.ts decides the format). */
  readonly secret: string;
  /** Absent until the user proved the authenticator works (POST /api/auth/totp/confirm). */
  readonly confirmedAt?: number;
  /** The last 30 s time step a code was accepted for: a code is good once (RFC 6238 §5.2). */
  readonly lastStep: number;
  /** sha256 (hex) of the one-time recovery codes still unused. */
  readonly recoveryHashes: readonly string[];
}

export interface SigninStore {
  findIdentity(issuer: string, subject: string): Promise<UserIdentity | undefined>;
  /** Links (or relinks, when the earlier user is gone) a provider account to a user. */
  linkIdentity(identity: UserIdentity): Promise<void>;
  getTotp(userId: string): Promise<TotpEnrolment | undefined>;
  /** Replaces the user's enrolment (a new enrolment replaces an unconfirmed one). */
  putTotp(enrolment: TotpEnrolment): Promise<void>;
  deleteTotp(userId: string): Promise<boolean>;
  /** Records `step` as used; false (and nothing changes) when it is not after the last used step. */
  useTotpStep(userId: string, step: number): Promise<boolean>;
  /** Removes one unused recovery code; false when there is no such code (used already, or wrong). */
  useRecoveryCode(userId: string, codeHash: string): Promise<boolean>;
}
