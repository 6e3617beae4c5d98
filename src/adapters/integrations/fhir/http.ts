/**
 * One HTTP(S) POST of a FHIR Bundle to the address the outbound policy pinned: the socket gets
 * that address from a lookup that never asks DNS, while the Host header, TLS SNI and the
 * certificate check keep the URL's name. No shared agent (no pooled socket to another address),
 * redirects are not followed, and the answer is read up to a bound (only its status and, on a
 * refusal, its OperationOutcome matter).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';

const MAX_ANSWER_BYTES = 1024 * 1024;

export interface FhirAnswer {
  readonly status: number;
  /** The answer's text (truncated at 1 MiB). */
  readonly text: string;
}

function fixedLookup(address: string): LookupFunction {
  const family = isIP(address);
  return (_hostname, options, callback) => {
    if (options.all) (callback as unknown as (err: null, all: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

export function postJson(url: URL, address: string, headers: Readonly<Record<string, string>>, body: string, timeoutMs: number): Promise<FhirAnswer> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const all = { ...headers, 'content-type': 'application/fhir+json; charset=utf-8', accept: 'application/fhir+json', 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const signal = AbortSignal.timeout(timeoutMs);
    const outgoing = request(url, { method: 'POST', headers: all, agent: false, lookup: fixedLookup(address), signal }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size >= MAX_ANSWER_BYTES) return;
        size += chunk.length;
        chunks.push(chunk);
      });
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8') }));
    });
    outgoing.on('error', (err) => reject(signal.aborted ? new Error(`${url.origin} timed out after ${timeoutMs} ms`) : err));
    outgoing.end(body);
  });
}

/** The first diagnostics of an OperationOutcome answer, bounded, for lastError. */
export function outcomeText(text: string): string {
  try {
    const outcome = JSON.parse(text) as { resourceType?: unknown; issue?: { diagnostics?: unknown; code?: unknown }[] };
    const issue = outcome.resourceType === 'OperationOutcome' ? outcome.issue?.[0] : undefined;
    if (issue) return String(issue.diagnostics ?? issue.code ?? '').slice(0, 300);
  } catch {
    // not JSON: the text itself
  }
  return text.slice(0, 300);
}
