/** A one-message-per-connection fake SMTP server for tests: STARTTLS optional, AUTH PLAIN as alerts/s3cret. */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';

export interface Received {
  commands: string[];
  data: string;
  tls: boolean;
}

/** One-message-per-connection SMTP server; `rcptCode` lets a test refuse recipients; `implicitTls` speaks TLS from the first byte (port 465 style). */
export function fakeSmtp(opts: { starttls?: { key: Buffer; cert: Buffer }; implicitTls?: { key: Buffer; cert: Buffer }; rcptCode?: number }): Promise<{ server: Server; port: number; received: Received[] }> {
  const received: Received[] = [];
  const onConnection = (raw: Socket): void => {
    const session: Received = { commands: [], data: '', tls: opts.implicitTls !== undefined };
    received.push(session);
    let socket: Socket = raw;
    let buffer = '';
    let inData = false;
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('utf8');
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end < 0) return;
          session.data = buffer.slice(0, end);
          buffer = buffer.slice(end + 5);
          inData = false;
          socket.write('250 queued\r\n');
          continue;
        }
        const nl = buffer.indexOf('\r\n');
        if (nl < 0) return;
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        session.commands.push(line);
        const verb = line.split(' ')[0]?.toUpperCase();
        if (verb === 'EHLO') socket.write(`250-fake\r\n${opts.starttls && !session.tls ? '250-STARTTLS\r\n' : ''}250 AUTH PLAIN\r\n`);
        else if (verb === 'STARTTLS' && opts.starttls) {
          socket.write('220 go ahead\r\n');
          socket.off('data', onData);
          const secure = new TLSSocket(socket, { isServer: true, key: opts.starttls.key, cert: opts.starttls.cert });
          session.tls = true;
          socket = secure;
          secure.on('data', onData);
        } else if (verb === 'AUTH') socket.write(line === `AUTH PLAIN ${Buffer.from('\0alerts\0s3cret').toString('base64')}` ? '235 ok\r\n' : '535 bad credentials\r\n');
        else if (verb === 'RCPT') socket.write(`${opts.rcptCode ?? 250} rcpt\r\n`);
        else if (verb === 'DATA') {
          socket.write('354 go\r\n');
          inData = true;
        } else if (verb === 'QUIT') {
          socket.write('221 bye\r\n');
          socket.end();
          return;
        } else socket.write('250 ok\r\n');
      }
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
    socket.write('220 fake ESMTP\r\n');
  };
  const server = opts.implicitTls ? createTlsServer({ key: opts.implicitTls.key, cert: opts.implicitTls.cert }, onConnection) : createServer(onConnection);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, received })));
}

/** The decoded text body of a message the fake received (the client sends base64). */
export function mailBody(data: string): string {
  const [, body = ''] = data.split('\r\n\r\n');
  return Buffer.from(body.replace(/\r\n/g, ''), 'base64').toString('utf8');
}
