/**
 * Network front ends for the broker: plain TCP (node:net), TLS (node:tls) and WebSocket (`ws`,
 * subprotocol `mqtt`). Each accepted stream is handed to MqttBroker.handle; the broker does not know
 * which transport carries it.
 */
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { createWebSocketStream, type WebSocket } from 'ws';
import type { ListeningAddress } from '../../../ports.js';
import { capConnections } from '../connection-cap.js';
import type { MqttBroker } from './broker.js';
import { judgeClientCertificate } from './client-cert.js';

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  /** Device CA bundle: client certificates must chain to it. */
  readonly ca?: string | undefined;
  /** CRL(s) of the device CA. */
  readonly crl?: string | undefined;
}

export interface ListenRequest {
  readonly name: 'mqtt' | 'mqtts';
  readonly host: string;
  readonly port: number;
  /** The setting that chooses the port, named in errors (e.g. `--mqtt-port`). */
  readonly flag: string;
  readonly tls?: TlsFiles | undefined;
  /** Open connections on this listener at most; more are closed at once. Default: no cap. */
  readonly maxConnections?: number;
}

export interface Listener {
  readonly server: Server;
  readonly address: ListeningAddress;
}

/** Config values may hold PEM text or a file path. */
function pem(value: string): Buffer {
  return Buffer.from(value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8'));
}

function displayHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
}

/** One line naming the flag, so an operator knows what to change. */
function listenError(err: NodeJS.ErrnoException, req: ListenRequest): Error {
  const flag = req.flag;
  const what = err.code === 'EADDRINUSE' ? 'is already in use' : err.code === 'EACCES' ? 'needs privileges' : `failed (${err.code ?? err.message})`;
  return new Error(`${req.name.toUpperCase()} port ${req.port} on ${req.host} ${what}; choose another with ${flag}`);
}

/** Listens for MQTT over TCP, or TLS when `tls` is given. Resolves with the real port (port 0 = any free). */
export function listen(broker: MqttBroker, req: ListenRequest): Promise<Listener> {
  let server: Server;
  if (req.tls) {
    const caConfigured = req.tls.ca !== undefined;
    const tlsServer = createTlsServer({
      cert: pem(req.tls.cert),
      key: pem(req.tls.key),
      ...(req.tls.ca ? { ca: pem(req.tls.ca) } : {}),
      ...(req.tls.crl ? { crl: pem(req.tls.crl) } : {}),
      // Devices may authenticate with a client certificate (X.509 credentials): ask for one but
      // do not require it (token devices present none); a presented one is judged after the
      // handshake (client-cert.ts) and a bad one refused at CONNECT.
      requestCert: true,
      rejectUnauthorized: false,
      // A handshake that never completes is closed like a CONNECT that never comes.
      handshakeTimeout: broker.options.connectTimeoutMs,
    });
    // TLS handshake failures (timeouts included) belong to that socket only.
    // node reports them here but leaves the socket open (a timed-out handshake too): close it.
    tlsServer.on('tlsClientError', (_err, socket) => {
      broker.metrics.reject('mqtt', 'TLS_HANDSHAKE_FAILED');
      socket.destroy();
    });
    tlsServer.on('secureConnection', (socket) => {
      socket.setNoDelay(true);
      broker.handle(socket, socket.remoteAddress, judgeClientCertificate(socket, caConfigured));
    });
    server = tlsServer;
  } else {
    server = createTcpServer({ noDelay: true }, (socket) => broker.handle(socket, socket.remoteAddress));
  }
  if (req.maxConnections !== undefined) capConnections(server, req.maxConnections, broker.logger, { listener: req.name }, () => broker.metrics.reject('mqtt', 'CONNECTION_LIMIT'));
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(listenError(err, req));
    server.once('error', onError);
    server.listen(req.port, req.host, () => {
      server.off('error', onError);
      server.on('error', (err) => broker.logger.error({ err, listener: req.name }, 'mqtt listener error'));
      const port = (server.address() as AddressInfo).port;
      const scheme = req.name === 'mqtts' ? 'mqtts' : 'mqtt';
      resolve({ server, address: { name: req.name, protocol: 'tcp', host: req.host, port, url: `${scheme}://${displayHost(req.host)}:${port}` } });
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/**
 * Serves one WebSocket (already upgraded by the HTTP server) as an MQTT connection: binary frames
 * carry the MQTT byte stream (MQTT 5.0 §6).
 */
export function acceptWebSocket(broker: MqttBroker, ws: WebSocket, remoteAddress?: string): void {
  const stream = createWebSocketStream(ws);
  // The duplex re-emits socket errors; the connection handles them, this keeps them off the process.
  stream.on('error', () => undefined);
  broker.handle(stream, remoteAddress);
}

/** For `new WebSocketServer({ handleProtocols })`: MQTT clients offer `mqtt` (or legacy `mqttv3.1`). */
export function selectMqttSubprotocol(protocols: Set<string>): string | false {
  if (protocols.has('mqtt')) return 'mqtt';
  if (protocols.has('mqttv3.1')) return 'mqttv3.1';
  return false;
}
