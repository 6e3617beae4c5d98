/**
 * CoAP transport (RFC 7252, Observe RFC 7641, Block1 RFC 7959) speaking ThingsBoard's CoAP
 * device API. See handlers.ts for the resources and docs/DEVICE-API.md for the contract.
 *
 * The server is our own (server.ts, on node:dgram + coap-packet), not the npm `coap` server:
 * see server.ts for why.
 *
 * Acknowledge after commit: a Confirmable POST is answered only once DeviceApi has resolved,
 * i.e. the data is committed. The server piggybacks the response on the ACK if it is ready
 * within `piggybackReplyMs`; otherwise it sends an empty ACK at that moment and the response
 * later as a separate CON (RFC 7252 §5.2.2). Either way the 2.04 comes after commit;
 * an empty ACK only says "received". We set `piggybackReplyMs` to 1 s — far above normal
 * group-commit latency and safely under ACK_TIMEOUT (2 s), the earliest moment a client
 * retransmits — so in practice the ACK itself carries the 2.04. A retransmission that still
 * arrives while we commit is dropped (dedup.ts), so a request is never stored twice.
 */
import { isIPv6 } from 'node:net';
import type { ListeningAddress, Logger, Transport } from '../../../ports.js';
import type { DeviceApi, TransportMetrics } from '../../../ports/device-api.js';
import { Block1Assembler } from './block1.js';
import { handleCoapRequest, type CoapHandlerDeps } from './handlers.js';
import { ChunkCache } from './chunk-cache.js';
import { ObservationRegistry } from './observe.js';
import type { DedupOptions } from './dedup.js';
import type { RetransmitTiming } from './retransmit.js';
import type { CoapExchange } from './exchange.js';
import { remoteOf } from './message.js';
import { CoapServer } from './server.js';

/**
 * The settings this transport reads. The app's Config has this shape, so the composition root
 * passes it as is; the adapter itself never imports the app.
 */
export interface CoapSettings {
  readonly host: string;
  readonly coap: {
    readonly port: number;
    readonly maxObservations: number;
    readonly maxObservationsPerEndpoint: number;
    readonly maxBlockTransfers: number;
    readonly maxBlockTransfersPerEndpoint: number;
    readonly maxBlockBytes: number;
    readonly blockTransferTtlMs: number;
  };
  readonly limits: { readonly maxPayloadBytes: number };
}

export interface CoapTransportOptions {
  readonly config: CoapSettings;
  /** The setting to name when the port cannot be bound (default the CLI flag, `--coap-port`). */
  readonly portSetting?: string;
  readonly deviceApi: DeviceApi;
  readonly metrics: TransportMetrics;
  readonly logger: Logger;
  /** How long a response may take and still ride on the ACK (default 1000 ms; see above). */
  readonly piggybackReplyMs?: number;
  /** How long stop() waits for requests being committed (default 5000 ms). */
  readonly drainTimeoutMs?: number;
  /** Bounds of the duplicate-detection cache (dedup.ts; default 200,000 entries, 247 s). */
  readonly dedup?: DedupOptions;
  /** Retransmission timing of CON notifications and separate responses (default RFC 7252 §4.8). */
  readonly retransmit?: RetransmitTiming;
}

export const DEFAULT_PIGGYBACK_REPLY_MS = 1000;

function listenError(err: NodeJS.ErrnoException, host: string, port: number, flag: string): Error {
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
  const inFlight = new Set<Promise<void>>();
  const observations = new ObservationRegistry({ maxPerEndpoint: config.coap.maxObservationsPerEndpoint, maxTotal: config.coap.maxObservations });
  const block1 = new Block1Assembler({
    maxBytes: config.limits.maxPayloadBytes,
    maxTransfers: config.coap.maxBlockTransfers,
    maxPerEndpoint: config.coap.maxBlockTransfersPerEndpoint,
    maxTotalBytes: config.coap.maxBlockBytes,
    ttlMs: config.coap.blockTransferTtlMs,
  });
  let server: CoapServer | undefined;
  let stopping = false;

  const deps: CoapHandlerDeps = {
    deviceApi,
    metrics,
    logger,
    maxPayloadBytes: config.limits.maxPayloadBytes,
    observations,
    block1,
    // A block-wise firmware download asks for the same chunk once per 1 KiB block: read it once.
    chunks: new ChunkCache({ maxBytes: 64 * 1024 * 1024, maxEntries: 1024, ttlMs: 30_000 }),
    stopping: () => stopping,
  };

  const onRequest = (exchange: CoapExchange): void => {
    const done = handleCoapRequest(deps, exchange)
      .catch((err: unknown) => logger.error({ err, remote: exchange.request.remote }, 'coap handler failed'))
      .finally(() => {
        inFlight.delete(done);
        // A request must not stay unanswered: its retransmissions would be dropped as in flight.
        if (!exchange.answered && !exchange.observing) exchange.reply({ code: '5.00' });
      });
    inFlight.add(done);
  };

  return {
    name: 'coap',

    async start(): Promise<ListeningAddress[]> {
      if (server) throw new Error('CoAP transport already started');
      stopping = false;
      const host = config.host;
      const port = config.coap.port;
      const srv = new CoapServer(
        {
          type: isIPv6(host) ? 'udp6' : 'udp4',
          piggybackReplyMs: opts.piggybackReplyMs ?? DEFAULT_PIGGYBACK_REPLY_MS,
          dedup: opts.dedup,
          retransmit: opts.retransmit,
        },
        {
          onGarbage: (rsinfo, bytes, err) => {
            metrics.reject('coap', 'MALFORMED_PACKET');
            logger.debug({ remote: remoteOf(rsinfo), bytes, reason: err.message }, 'coap datagram dropped');
          },
          onInternalError: (rsinfo, err) => {
            logger.error({ remote: remoteOf(rsinfo), err }, 'coap message handling failed');
          },
          onRequest,
        },
      );
      try {
        await srv.listen(port, host);
      } catch (err) {
        throw listenError(err as NodeJS.ErrnoException, host, port, opts.portSetting ?? '--coap-port');
      }
      srv.onError((err: Error) => logger.error({ err }, 'coap socket error'));
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
        Promise.allSettled([...inFlight]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, drainMs);
        }),
      ]);
      clearTimeout(timer);
      observations.closeAll();
      block1.clear();
      server = undefined;
      await srv.close();
      logger.info({}, 'coap stopped');
    },
  };
}
