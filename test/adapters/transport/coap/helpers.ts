/**
 * CoAP test plumbing: the transport on 127.0.0.1 with a free port over the fake DeviceApi,
 * libcoap's `coap-client-notls` as the real peer (it exits 0 even on 4.xx, so the code is read
 * from its `-v 6` message trace), and a raw UDP client for message-layer details.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket, type Socket } from 'node:dgram';
import { generate, parse, type Packet, type ParsedPacket } from 'coap-packet';
import { createCoapTransport, type CoapTransportOptions } from '../../../../src/adapters/transport/coap/index.js';
import { DEFAULTS, type Config } from '../../../../src/apps/config.js';
import type { Transport } from '../../../../src/ports.js';
import { FakeDeviceApi, countingMetrics, recordingLogger, waitFor, type CountingMetrics } from '../http/fake-device-api.js';

export const CLIENT = 'coap-client-notls';

export interface CoapHarness {
  readonly api: FakeDeviceApi;
  readonly metrics: CountingMetrics;
  readonly logger: ReturnType<typeof recordingLogger>;
  readonly transport: Transport;
  readonly port: number;
  readonly config: Config;
  /** `coap://127.0.0.1:PORT/api/v1/` + path */
  url(path: string): string;
  stop(): Promise<void>;
}

export interface StartCoapOptions extends Pick<CoapTransportOptions, 'piggybackReplyMs' | 'dedup' | 'retransmit'> {
  maxPayloadBytes?: number;
  port?: number;
}

export async function startCoap(options: StartCoapOptions = {}): Promise<CoapHarness> {
  const config = structuredClone(DEFAULTS);
  config.host = '127.0.0.1';
  config.coap.port = options.port ?? 0;
  config.limits.maxPayloadBytes = options.maxPayloadBytes ?? 4096;
  const api = new FakeDeviceApi();
  const metrics = countingMetrics();
  const logger = recordingLogger();
  const { piggybackReplyMs, dedup, retransmit } = options;
  const transport = createCoapTransport({ config, deviceApi: api, metrics, logger, piggybackReplyMs, dedup, retransmit, drainTimeoutMs: 1000 });
  const [address] = await transport.start();
  if (!address) throw new Error('no address');
  return {
    api,
    metrics,
    logger,
    transport,
    port: address.port,
    config,
    url: (path) => `coap://127.0.0.1:${address.port}/api/v1/${path}`,
    stop: () => transport.stop(),
  };
}

export interface CoapLine {
  readonly type: string;
  readonly code: string;
  readonly mid: string;
  readonly token: string;
  readonly options: string;
  readonly payload: string | undefined;
}

const LINE = /^v:1 t:(\w+) c:(\S+) i:(\w+) \{(\w*)\} \[(.*?)\](?: :: '(.*)')?$/;

export function parseTrace(stdout: string): CoapLine[] {
  const out: CoapLine[] = [];
  for (const line of stdout.split('\n')) {
    const m = LINE.exec(line.trim().replace(/^.*?(v:1 t:)/, '$1'));
    if (m) out.push({ type: m[1] ?? '', code: m[2] ?? '', mid: m[3] ?? '', token: m[4] ?? '', options: m[5] ?? '', payload: m[6] });
  }
  return out;
}

export interface ClientResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly lines: CoapLine[];
  /** Responses (codes 2.xx–5.xx) the client received, in order. */
  readonly responses: CoapLine[];
  /** The code of the last response, e.g. '2.04'. */
  readonly code: string | undefined;
  readonly ms: number;
}

/** Runs coap-client-notls to completion with `-v 6` (message trace on stdout). */
export function coapClient(args: readonly string[], timeoutMs = 10_000): Promise<ClientResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile(CLIENT, ['-v', '6', '-B', '4', ...args], { timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err && err.killed) return reject(new Error(`${CLIENT} timed out: ${stderr}`));
      const lines = parseTrace(stdout);
      const responses = lines.filter((l) => /^[2-5]\.\d\d$/.test(l.code));
      resolve({ stdout, stderr, lines, responses, code: responses.at(-1)?.code, ms: Date.now() - started });
    });
  });
}

/** A long-running coap-client (observe); its output accumulates in `out`. */
export class RunningClient {
  readonly child: ChildProcess;
  out = '';
  constructor(args: readonly string[]) {
    this.child = spawn(CLIENT, ['-v', '6', '-B', '30', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.out += d.toString()));
  }
  lines(): CoapLine[] {
    return parseTrace(this.out);
  }
  waitForOutput(match: string | RegExp, timeoutMs = 5000): Promise<void> {
    return waitFor(() => (typeof match === 'string' ? this.out.includes(match) : match.test(this.out)), timeoutMs, `client output ${String(match)}`);
  }
  exited(): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }
  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** A bare UDP endpoint that speaks CoAP messages directly. */
export class RawCoap {
  private readonly sock: Socket = createSocket('udp4');
  readonly received: ParsedPacket[] = [];
  constructor(private readonly port: number) {
    this.sock.on('message', (msg) => {
      try {
        this.received.push(parse(msg));
      } catch {
        /* not CoAP */
      }
    });
  }
  bind(): Promise<void> {
    return new Promise((resolve) => this.sock.bind(0, '127.0.0.1', () => resolve()));
  }
  sendBytes(buf: Buffer): void {
    this.sock.send(buf, this.port, '127.0.0.1');
  }
  send(packet: Packet): void {
    this.sendBytes(generate(packet));
  }
  async next(match: (p: ParsedPacket) => boolean, timeoutMs = 3000): Promise<ParsedPacket> {
    let found: ParsedPacket | undefined;
    await waitFor(() => (found = this.received.find(match)) !== undefined, timeoutMs, 'a CoAP message');
    this.received.splice(this.received.indexOf(found as ParsedPacket), 1);
    return found as ParsedPacket;
  }
  close(): void {
    this.sock.close();
  }
}

export function uriPath(path: string): { name: 'Uri-Path'; value: Buffer }[] {
  return path
    .split('/')
    .filter((p) => p.length > 0)
    .map((p) => ({ name: 'Uri-Path' as const, value: Buffer.from(p) }));
}

export function optionValue(packet: ParsedPacket, name: string): Buffer | undefined {
  return packet.options.find((o) => o.name === name)?.value;
}

let scratch: string | undefined;

/** Writes a file in a per-process scratch folder and returns its path. */
export function tmpFile(name: string, content: string): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'continuum-coap-'));
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
}
