/**
 * A small fetch-based client of the management API, for the CLI, the simulator and the scenario
 * packs: `call` by operationId with types generated from the OpenAPI document (typed-client.ts),
 * `request` for what the document cannot type (streamed uploads, downloads).
 */
import { operationRequest, type CallArgs, type OperationId, type OperationOutput } from './typed-client.js';

/** A failure to report as one line on stderr with exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The API answered with an error: its status and catalogue code (`{error, message}`), for callers that branch on them. */
export class ApiError extends CliError {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    // 404 gets its own exit code (3) so scripts can tell "no such thing" from other failures.
    super(message, status === 404 ? 3 : 1);
  }
}

/** A body sent as it is read (a package upload), never held whole. */
export interface StreamBody {
  readonly body: AsyncIterable<Uint8Array>;
  readonly contentType: string;
  /** Sent as Content-Length when known (a file). */
  readonly length?: number;
}

export interface RequestOptions {
  readonly json?: unknown;
  readonly text?: string;
  readonly stream?: StreamBody;
  readonly contentType?: string;
  readonly query?: Record<string, string | number | undefined>;
}

/** A web ReadableStream over an async iterable, pulled as fetch sends (back-pressure). */
function readableOf(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await it.next();
      if (next.done === true) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await it.return?.();
    },
  });
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly headers: Record<string, string>,
  ) {}

  /** One operation of the OpenAPI document by its operationId, its input and answer typed from the route's schemas. */
  async call<K extends OperationId>(id: K, ...args: CallArgs<K>): Promise<OperationOutput<K>> {
    const req = operationRequest(id, args[0]);
    return this.request<OperationOutput<K>>(req.method, req.path, { query: req.query, ...(req.body !== undefined ? { json: req.body } : {}) });
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { ...this.headers, accept: 'application/json' };
    let body: string | ReadableStream<Uint8Array> | undefined;
    if (options.stream !== undefined) {
      headers['content-type'] = options.stream.contentType;
      if (options.stream.length !== undefined) headers['content-length'] = String(options.stream.length);
      body = readableOf(options.stream.body);
    } else if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.text !== undefined) {
      headers['content-type'] = options.contentType ?? 'text/plain';
      body = options.text;
    }
    let res: Response;
    try {
      // A stream body needs `duplex: 'half'` (fetch sends it as it reads it).
      const init: RequestInit & { duplex?: 'half' } = { method, headers, ...(body !== undefined ? { body } : {}), ...(options.stream ? { duplex: 'half' } : {}) };
      res = await fetch(url, init);
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach ${this.baseUrl}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    const text = await res.text();
    const parsed = parseBody(text);
    if (!res.ok) throw apiError(method, path, res.status, parsed);
    return parsed as T;
  }

  /** A GET whose answer is read as it arrives (a CSV export), never held whole. */
  async download(path: string, query: Record<string, string | number | undefined> = {}): Promise<AsyncIterable<Uint8Array>> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    let res: Response;
    try {
      res = await fetch(url, { headers: this.headers });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach ${this.baseUrl}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    if (!res.ok) throw apiError('GET', path, res.status, parseBody(await res.text()));
    return res.body ?? (async function* () {})();
  }
}

function parseBody(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

function apiError(method: string, path: string, status: number, parsed: unknown): ApiError {
  const e = parsed as { error?: string; message?: string } | undefined;
  const detail = typeof e === 'object' && e?.message ? e.message : `HTTP ${status}`;
  return new ApiError(`${method} ${path}: ${detail}${e?.error ? ` (${e.error})` : ''}`, status, typeof e === 'object' ? e?.error : undefined);
}
