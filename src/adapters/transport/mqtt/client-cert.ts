/**
 * What a TLS client certificate proves, judged once per connection right after the handshake.
 *
 * The handshake asks for a certificate but does not require one (rejectUnauthorized: false):
 * devices that authenticate by access token over TLS present none. A certificate that *is*
 * presented must be good, or the connection is refused at CONNECT (CONNACK 0x87 / 3.1.1 code 5,
 * see auth.ts):
 * - with a device CA (`tls.ca`): OpenSSL verified the chain against it during the handshake,
 *   with the validity dates of every certificate and the CRL (`tls.crl`) when given
 *   (RFC 5280 §6.1); `socket.authorized` says whether that succeeded. A certificate registered
 *   by fingerprint must chain to the CA too (put a self-signed one in the CA bundle to keep it).
 * - without one: there is no chain to check (self-signed device certificates registered by
 *   fingerprint are the model), but an expired or not-yet-valid certificate is still refused.
 */
import type { PeerCertificate, TLSSocket } from 'node:tls';

export interface ClientCertificate {
  /** SHA-256 fingerprint (node's `AA:BB:…` form). */
  readonly fingerprint: string;
  /** Names the certificate gives its subject: the CN first, then DNS, URI and e-mail SANs. */
  readonly names: readonly string[];
  /** Chains to the configured device CA (validity and CRL checked). */
  readonly chainVerified: boolean;
  /** Why the certificate is refused (an OpenSSL verify code such as CERT_REVOKED); undefined when good. */
  readonly refused?: string;
}

function subjectNames(peer: PeerCertificate): string[] {
  const names: string[] = [];
  const cn = peer.subject?.CN;
  if (typeof cn === 'string' && cn !== '') names.push(cn);
  // "DNS:a, URI:b, email:c" (node's subjectaltname string).
  for (const entry of (peer.subjectaltname ?? '').split(', ')) {
    const match = /^(DNS|URI|email):(.+)$/.exec(entry);
    if (match?.[2] && !names.includes(match[2])) names.push(match[2]);
  }
  return names;
}

/** The verdict on the socket's client certificate; undefined when the client presented none. */
export function judgeClientCertificate(socket: TLSSocket, caConfigured: boolean, now = Date.now()): ClientCertificate | undefined {
  const peer = socket.getPeerCertificate();
  if (!peer || !peer.fingerprint256) return undefined;
  const base = { fingerprint: peer.fingerprint256, names: subjectNames(peer) };
  if (caConfigured) {
    if (socket.authorized) return { ...base, chainVerified: true };
    const error = socket.authorizationError as unknown;
    const code = error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error ?? 'UNVERIFIED');
    return { ...base, chainVerified: false, refused: code };
  }
  if (now < Date.parse(peer.valid_from)) return { ...base, chainVerified: false, refused: 'CERT_NOT_YET_VALID' };
  if (now > Date.parse(peer.valid_to)) return { ...base, chainVerified: false, refused: 'CERT_HAS_EXPIRED' };
  return { ...base, chainVerified: false };
}
