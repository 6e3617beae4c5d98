/**
 * CoAP transport (RFC 7252, Observe RFC 7641, Block1 RFC 7959) speaking ThingsBoard's CoAP
 * device API. See handlers.ts for the resources and docs/DEVICE-API.md for the contract.
 *
 * Acknowledge after commit: a Confirmable POST is answered only once DeviceApi has resolved,
 * i.e. the data is committed. The `coap` package piggybacks the response on the ACK if it is
 * ready within `piggybackReplyMs`; otherwise it sends an empty ACK at that moment and the
 * response later as a separate CON (RFC 7252 §5.2.2). Either way the 2.04 comes after commit;
 * an empty ACK only says "received". We set `piggybackReplyMs` to 1 s — far above normal
 * group-commit latency and safely under ACK_TIMEOUT (2 s), the earliest moment a client
 * retransmits — so in practice the ACK itself carries the 2.04. A retransmission that still
 * arrives while we commit is dropped (server.ts), so a request is never stored twice.
 */
import { isIPv6 } from 'node:net';
import { ObserveWriteStream, type IncomingMessage, type OutgoingMessage } from 'coap';
import { flagFor, type Config } from '../../../apps/config.js';
import type { ListeningAddress, Logger, Transport } from '../../../ports.js';
import type { DeviceApi, TransportMetrics } from '../../../services/device-api.js';
import { Block1Assembler } from './block1.js';
import { handleCoapRequest, type CoapHandlerDeps } from './handlers.js';
import { ObservationRegistry } from './observe.js';
import { ContinuumCoapServer, exchangeKey } from './server.js';

export interface CoapTransportOptions {
  readonly config: Config;
  readonly deviceApi: DeviceApi;
  readonly metrics: TransportMetrics;
  readonly logger: Logger;
  /** How long a response may take and still ride on the ACK (default 1000 ms; see above). */
  readonly piggybackReplyMs?: number;
  /** How long stop() waits for requests being committed (default 5000 ms). */
  readonly drainTimeoutMs?: number;
}

export const DEFAULT_PIGGYBACK_REPLY_MS = 1000;

function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const flag = flagFor('coap.port') ?? '--coap-port';
  if (err.code === 'EADDRINUSE') {
    return new Error(`CoAP port ${port} on ${host} is already in use (UDP); choose another with ${flag}`);
  }
  return new Error(`cannot listen for CoAP on ${host}:${port} (${err.code ?? err.message}); check --host and ${flag}`);
}

/** A wildcard bind address is not something a client can dial: show loopback instead. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return isIPv6(host) ? `[${host}]` : host;
}

export function createCoapTransport(opts: CoapTransportOptions): Transport {
  const { config, deviceApi, metrics } = opts;
  const { logger } = opts;
  const inFlight = new Map<string, Promise<void>>();
  const observations = new ObservationRegistry();
  const block1 = new Block1Assembler({ maxBytes: config.limits.maxPayloadBytes });
  let server: ContinuumCoapServer | undefined;
  let stopping = false;

  const deps: CoapHandlerDeps = {
    deviceApi,
    metrics,
    logger,
    maxPayloadBytes: config.limits.maxPayloadBytes,
    observations,
    block1,
    stopping: () => stopping,
  };

  const onRequest = (req: IncomingMessage, res: OutgoingMessage | ObserveWriteStream): void => {
    const key = exchangeKey(req.rsinfo, req._packet.messageId);
    const done = handleCoapRequest(deps, req, res)
      .catch((err: unknown) => logger.error({ err, remote: key }, 'coap handler failed'))
      .finally(() => {
        if (inFlight.get(key) === done) inFlight.delete(key);
        if (!(res instanceof ObserveWriteStream) && res.writableEnded) server?.slimCachedResponse(req, res);
      });
    inFlight.set(key, done);
  };

  return {
    name: 'coap',

    async start(): Promise<ListeningAddress[]> {
      if (server) throw new Error('CoAP transport already started');
      stopping = false;
      const host = config.host;
      const port = config.coap.port;
      const srv = new ContinuumCoapServer(
        {
          type: isIPv6(host) ? 'udp6' : 'udp4',
          piggybackReplyMs: opts.piggybackReplyMs ?? DEFAULT_PIGGYBACK_REPLY_MS,
          // The package defaults to SO_REUSEADDR, which would hide a port already taken.
          reuseAddr: false,
        },
        {
          onGarbage: (rsinfo, bytes, err) => {
            metrics.reject('coap', 'MALFORMED_PACKET');
            logger.debug({ remote: `${rsinfo.address}:${rsinfo.port}`, bytes, reason: err.message }, 'coap datagram dropped');
          },
          onInternalError: (rsinfo, err) => {
            logger.error({ remote: `${rsinfo.address}:${rsinfo.port}`, err }, 'coap message handling failed');
          },
          isInFlight: (key) => inFlight.has(key),
        },
      );
      srv.on('request', onRequest);
      await new Promise<void>((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException): void => {
          srv.close();
          reject(listenError(err, host, port));
        };
        srv.once('error', onError);
        srv.listen(port, host, (err?: Error) => {
          srv.off('error', onError);
          if (err) {
            srv.close();
            reject(listenError(err, host, port));
          } else {
            resolve();
          }
        });
      });
      srv.on('error', (err: Error) => logger.error({ err }, 'coap socket error'));
      srv.growBuffers(4 * 1024 * 1024, 1024 * 1024);
      server = srv;
      const bound = srv.boundAddress()?.port ?? port;
      logger.info({ host, port: bound }, 'coap listening');
      return [{ name: 'coap', protocol: 'udp', host, port: bound, url: `coap://${urlHost(host)}:${bound}` }];
    },

    async stop(): Promise<void> {
      const srv = server;
      if (!srv) return;
      stopping = true;
      // Let requests being committed get their answers before the socket goes away.
      const drainMs = opts.drainTimeoutMs ?? 5000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight.values()]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, drainMs);
        }),
      ]);
      clearTimeout(timer);
      observations.closeAll();
      block1.clear();
      server = undefined;
      await new Promise<void>((resolve) => srv.close(() => resolve()));
      logger.info({}, 'coap stopped');
    },
  };
}
