/**
 * A minimal SMTP client (RFC 5321) for rule e-mail notifications, on node:net / node:tls, so the
 * platform needs no mail library: EHLO, STARTTLS (RFC 3207) or implicit TLS (RFC 8314 §3.3),
 * AUTH PLAIN (RFC 4954), one message per connection, plain text.
 *
 * TLS is required by default: with `tls: 'starttls'` a server that does not offer STARTTLS, or
 * an upgrade that fails (certificate not trusted, wrong name), ends the session before any
 * credential or message is sent. Opportunistic STARTTLS would let anyone on the path strip the
 * offer (RFC 3207 §6) and read the password. `tls: 'none'` is for a relay on this host or a
 * trusted segment only. The body is sent base64
 * encoded (RFC 2045), so line length, dots and 8-bit content never need the server's cooperation;
 * a non-ASCII subject is an RFC 2047 encoded word.
 */
import { randomUUID } from 'node:crypto';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { EmailMessage, EmailSender } from '../../../ports/notify.js';

/** starttls: upgrade required (default); implicit: TLS from the first byte (port 465); none: plain. */
export type SmtpTlsMode = 'starttls' | 'implicit' | 'none';

export interface SmtpOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: SmtpTlsMode;
  /** Certificates to trust instead of the system's CAs (a private CA); the certificate is always verified. */
  readonly ca?: string | Buffer;
  readonly from: string;
  readonly username?: string;
  readonly password?: string;
  /** Name given in EHLO (default: localhost). */
  readonly clientName?: string;
  readonly timeoutMs?: number;
}

interface Reply {
  readonly code: number;
  readonly lines: string[];
}

/** Reads SMTP replies (multi-line: "250-…" continues, "250 …" ends) from a socket. */
class ReplyReader {
  private buffer = '';
  private readonly queue: Reply[] = [];
  private partial: string[] = [];
  private waiter: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  attach(socket: Socket | TLSSocket): void {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.feed(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('SMTP connection closed')));
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      this.partial.push(line.slice(4));
      if (line[3] === '-') continue;
      const reply = { code: Number(line.slice(0, 3)), lines: this.partial };
      this.partial = [];
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w.resolve(reply);
      } else this.queue.push(reply);
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(this.failure);
  }

  next(): Promise<Reply> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }
}

/** Header values must not carry CR/LF (header injection). */
function headerSafe(value: string, what: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`e-mail ${what} contains a line break`);
  return value;
}

const ADDRESS = /^[^\s<>@,;]+@[^\s<>@,;]+$/;

function address(value: string, what: string): string {
  if (!ADDRESS.test(value)) throw new Error(`e-mail ${what} "${value}" is not an address`);
  return value;
}

function encodeWord(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

function base64Lines(text: string): string {
  const b64 = Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'utf8').toString('base64');
  return (b64.match(/.{1,76}/g) ?? []).join('\r\n');
}

/** The whole message as sent after DATA, terminated by CRLF.CRLF. */
export function formatMessage(from: string, msg: EmailMessage, date = new Date()): string {
  const domain = from.split('@')[1] ?? 'localhost';
  const headers = [
    `From: ${from}`,
    `To: ${msg.to.join(', ')}`,
    `Subject: ${encodeWord(headerSafe(msg.subject, 'subject'))}`,
    `Date: ${date.toUTCString()}`,
    `Message-ID: <${randomUUID()}@${domain}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
  ];
  // Base64 lines never start with ".", so no dot-stuffing is needed.
  return `${headers.join('\r\n')}\r\n\r\n${base64Lines(msg.text)}\r\n.\r\n`;
}

/** Waits for the TLS handshake; a certificate the trust store rejects fails it. */
function handshake(socket: TLSSocket, server: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', (err) => reject(new Error(`SMTP ${server}: TLS failed (${err.message}); nothing was sent`)));
  });
}

export function createSmtpSender(opts: SmtpOptions): EmailSender {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const mode = opts.tls ?? 'starttls';
  const from = address(opts.from, 'sender');
  const server = `${opts.host}:${opts.port}`;
  // SNI carries host names only (RFC 6066 §3); the certificate is checked against the host either way.
  const tlsOptions = { ...(isIP(opts.host) ? {} : { servername: opts.host }), ...(opts.ca ? { ca: opts.ca } : {}), rejectUnauthorized: true };

  return {
    async send(msg: EmailMessage): Promise<void> {
      if (msg.to.length === 0) throw new Error('e-mail without recipients');
      const to = msg.to.map((t) => address(t.trim(), 'recipient'));
      const body = formatMessage(from, { ...msg, to });
      let socket: Socket | TLSSocket = mode === 'implicit' ? tlsConnect({ host: opts.host, port: opts.port, ...tlsOptions }) : netConnect({ host: opts.host, port: opts.port });
      let reader = new ReplyReader();
      reader.attach(socket);
      const timer = setTimeout(() => socket.destroy(new Error(`SMTP ${server} timed out after ${timeoutMs} ms`)), timeoutMs);
      const expect = async (want: number[], what: string): Promise<Reply> => {
        const reply = await reader.next();
        if (!want.includes(reply.code)) throw new Error(`SMTP ${what}: ${reply.code} ${reply.lines.join(' ')}`);
        return reply;
      };
      const command = (line: string, want: number[], what = line.split(' ')[0] ?? line): Promise<Reply> => {
        socket.write(`${line}\r\n`);
        return expect(want, what);
      };
      try {
        if (mode === 'implicit') await handshake(socket as TLSSocket, server);
        await expect([220], 'greeting');
        const name = opts.clientName ?? 'localhost';
        const ehlo = await command(`EHLO ${name}`, [250]);
        if (mode === 'starttls') {
          if (!ehlo.lines.some((l) => l.toUpperCase().startsWith('STARTTLS'))) {
            throw new Error(`SMTP ${server} does not offer STARTTLS: refusing to send credentials or mail in clear (notify.smtp.tls: none allows it for a local relay)`);
          }
          await command('STARTTLS', [220]);
          socket.removeAllListeners('data');
          // `host` names the identity the certificate must carry; without it Node checks "localhost".
          const upgraded = tlsConnect({ socket, host: opts.host, ...tlsOptions });
          socket = upgraded;
          reader = new ReplyReader();
          reader.attach(upgraded);
          await handshake(upgraded, server);
          // RFC 3207 §4.2: what the server said before TLS is discarded; ask again.
          await command(`EHLO ${name}`, [250]);
        }
        if (opts.username !== undefined) {
          const token = Buffer.from(`\u0000${opts.username}\u0000${opts.password ?? ''}`, 'utf8').toString('base64');
          await command(`AUTH PLAIN ${token}`, [235], 'AUTH');
        }
        await command(`MAIL FROM:<${from}>`, [250], 'MAIL FROM');
        for (const rcpt of to) await command(`RCPT TO:<${rcpt}>`, [250, 251], 'RCPT TO');
        await command('DATA', [354]);
        socket.write(body);
        await expect([250], 'message');
        socket.write('QUIT\r\n');
        await reader.next().catch(() => undefined);
      } finally {
        clearTimeout(timer);
        socket.destroy();
      }
    },
  };
}
