/**
 * `continuum edge scan opcua`: opens a session, browses the address space from the Objects folder
 * (hierarchical references, forward, depth-limited, properties left out) and prints every
 * variable and method found as an opcua connector section: one device per top-level object,
 * variables as `nodes` (their value and DataType in a comment), writable variables and methods
 * as `commands`.
 */
import type { ClientSession, ReferenceDescription } from 'node-opcua';
import type { JsonValue } from '../../domain/telemetry.js';
import { closeQuietly, createClient, describeError, loadOpcua, userIdentity, type OpcuaModule } from '../connectors/opcua/client.js';
import type { OpcuaConfig } from '../connectors/opcua/schema.js';
import { builtInName, toJson } from '../connectors/opcua/values.js';

export interface OpcuaScanOptions {
  readonly url: string;
  readonly depth: number;
  readonly maxNodes: number;
  /** Also standard (namespace 0) nodes, such as the Server object. */
  readonly all: boolean;
  readonly securityMode: OpcuaConfig['securityMode'];
  readonly securityPolicy?: OpcuaConfig['securityPolicy'];
  readonly username?: string;
  readonly password?: string;
  readonly pkiDir?: string;
  readonly acceptUnknownCertificate: boolean;
  readonly timeoutMs: number;
}

export interface FoundNode {
  readonly kind: 'variable' | 'method';
  readonly nodeId: string;
  /** Browse names from the Objects folder: ["1:Boiler", "1:Temperature"]. */
  readonly path: readonly string[];
  /** The object a method belongs to. */
  readonly parentId: string;
  readonly dataType?: string;
  readonly value?: JsonValue;
  readonly writable?: boolean;
}

const OBJECTS_FOLDER = 'i=85';
/** HasProperty (Part 3 7.13): metadata of a node, not a value of the device. */
const HAS_PROPERTY = 'ns=0;i=46';
/** AccessLevel bit CurrentWrite (Part 3 8.57). */
const CURRENT_WRITE = 0x02;
const BOUNDS = { maxStringLength: 200, maxArrayLength: 20 };

async function children(session: ClientSession, opcua: OpcuaModule, nodeId: string): Promise<ReferenceDescription[]> {
  let result = await session.browse({
    nodeId,
    browseDirection: opcua.BrowseDirection.Forward,
    referenceTypeId: 'HierarchicalReferences',
    includeSubtypes: true,
    nodeClassMask: opcua.NodeClass.Object | opcua.NodeClass.Variable | opcua.NodeClass.Method,
    resultMask: 0x3f,
  });
  const refs = [...(result.references ?? [])];
  // A server may hand long lists out in parts (Part 4 5.8.3 BrowseNext); a few parts are plenty for a scan.
  for (let i = 0; i < 20 && result.continuationPoint && result.continuationPoint.length > 0; i++) {
    result = await session.browseNext(result.continuationPoint, false);
    refs.push(...(result.references ?? []));
  }
  return refs.filter((r) => r.referenceTypeId.toString() !== HAS_PROPERTY);
}

async function describeVariable(session: ClientSession, opcua: OpcuaModule, nodeId: string): Promise<Pick<FoundNode, 'dataType' | 'value' | 'writable'>> {
  const [value, access] = await session.read([
    { nodeId, attributeId: opcua.AttributeIds.Value },
    { nodeId, attributeId: opcua.AttributeIds.UserAccessLevel },
  ]);
  let dataType: string | undefined;
  try {
    dataType = builtInName(await session.getBuiltInDataType(opcua.resolveNodeId(nodeId)));
  } catch {
    dataType = undefined;
  }
  return {
    ...(dataType !== undefined ? { dataType } : {}),
    ...(value?.statusCode.isGood() ? { value: toJson(value.value, BOUNDS) } : {}),
    writable: access?.statusCode.isGood() === true && (Number(access.value.value) & CURRENT_WRITE) !== 0,
  };
}

export async function scanOpcua(options: OpcuaScanOptions, log: (line: string) => void): Promise<FoundNode[]> {
  // node-opcua's log lines go to stderr with the progress, never into the snippet on stdout.
  const quiet = { debug() {}, info() {}, warn: (o: object) => log(JSON.stringify(o)), error: (o: object) => log(JSON.stringify(o)) };
  const opcua = await loadOpcua(quiet);
  const settings = { ...options, reconnectMs: 200, reconnectMaxMs: 1000, requestTimeoutMs: options.timeoutMs };
  // One attempt: a scan reports an unreachable server instead of waiting for it.
  const client = createClient(opcua, settings, 0);
  let session: ClientSession | undefined;
  try {
    log(`connecting to ${options.url} (security ${options.securityMode}, ${options.username ? `user ${options.username}` : 'anonymous'})`);
    await client.connect(options.url);
    session = await client.createSession(userIdentity(opcua, options));
    const found: FoundNode[] = [];
    const seen = new Set<string>();
    let queue: { nodeId: string; path: string[] }[] = [{ nodeId: OBJECTS_FOLDER, path: [] }];
    for (let depth = 1; depth <= options.depth && queue.length > 0; depth++) {
      const next: typeof queue = [];
      for (const parent of queue) {
        let refs: ReferenceDescription[];
        try {
          refs = await children(session, opcua, parent.nodeId);
        } catch (err) {
          log(`browse ${parent.nodeId}: ${describeError(err)}`);
          continue;
        }
        for (const r of refs) {
          const nodeId = r.nodeId.toString();
          if (seen.has(nodeId) || (!options.all && r.nodeId.namespace === 0)) continue;
          seen.add(nodeId);
          if (seen.size > options.maxNodes) {
            log(`stopped at --max-nodes ${options.maxNodes}`);
            return found;
          }
          const path = [...parent.path, `${r.browseName.namespaceIndex}:${r.browseName.name ?? ''}`];
          if (r.nodeClass === opcua.NodeClass.Method) found.push({ kind: 'method', nodeId, path, parentId: parent.nodeId });
          else if (r.nodeClass === opcua.NodeClass.Variable) found.push({ kind: 'variable', nodeId, path, parentId: parent.nodeId, ...(await describeVariable(session, opcua, nodeId)) });
          // Objects (and variables with components) are looked into at the next depth.
          if (r.nodeClass !== opcua.NodeClass.Method) next.push({ nodeId, path });
        }
      }
      queue = next;
    }
    log(`${found.filter((n) => n.kind === 'variable').length} variable(s), ${found.filter((n) => n.kind === 'method').length} method(s) within depth ${options.depth}`);
    return found;
  } finally {
    await closeQuietly(client, session);
  }
}

const slug = (text: string): string =>
  text
    .replace(/^\d+:/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '') || 'x';

const host = (url: string): string => /^opc\.tcp:\/\/([^:/]+)/.exec(url)?.[1] ?? 'server';

/** The connector section: one device per top-level object (variables right under Objects go to one named after the host). */
export function opcuaSnippet(options: OpcuaScanOptions, nodes: readonly FoundNode[]): string {
  const lines = [
    `# continuum edge scan opcua: ${options.url}; ${nodes.length} node(s) within depth ${options.depth}`,
    '# Paste under an edge config (docs/EDGE.md); keep the nodes you need, add deadbands and attributes.',
    'connectors:',
    '  - type: opcua',
    '    name: opcua',
    `    endpoint: ${JSON.stringify(options.url)}`,
    `    securityMode: ${options.securityMode}`,
    ...(options.securityPolicy !== undefined ? [`    securityPolicy: ${options.securityPolicy}`] : []),
    ...(options.username !== undefined ? [`    username: ${JSON.stringify(options.username)}`, '    password: ${OPCUA_PASSWORD}'] : []),
    '    devices:',
  ];
  const groups = new Map<string, FoundNode[]>();
  for (const n of nodes) {
    const group = n.path.length > 1 ? (n.path[0] as string) : '';
    groups.set(group, [...(groups.get(group) ?? []), n]);
  }
  const deviceNames = new Set<string>();
  for (const [group, members] of groups) {
    let device = slug(group || host(options.url)).replace(/_/g, '-');
    while (deviceNames.has(device)) device = `${device}-2`;
    deviceNames.add(device);
    lines.push(`      - name: ${JSON.stringify(device)}`, '        publishingIntervalMs: 1000');
    const keys = new Set<string>();
    const keyOf = (n: FoundNode): string => {
      // The last browse name; on a clash, the ones above it too (boiler_temperature).
      for (let take = 1; take <= n.path.length; take++) {
        const key = n.path.slice(n.path.length - take).map(slug).join('_');
        if (!keys.has(key)) {
          keys.add(key);
          return key;
        }
      }
      const key = `${slug(n.path.join('_'))}_${keys.size}`;
      keys.add(key);
      return key;
    };
    const variables = members.filter((n) => n.kind === 'variable').map((n) => ({ n, key: keyOf(n) }));
    const methods = members.filter((n) => n.kind === 'method').map((n) => ({ n, key: keyOf(n) }));
    if (variables.length > 0) lines.push('        nodes:');
    for (const { n, key } of variables) lines.push(`          - { key: ${key}, nodeId: ${JSON.stringify(n.nodeId)} }  # /${n.path.join('/')} ${n.dataType ?? '?'} = ${JSON.stringify(n.value ?? null)}`);
    const writable = variables.filter(({ n }) => n.writable);
    if (writable.length + methods.length > 0) lines.push('        commands:');
    for (const { n, key } of writable) lines.push(`          - { method: set_${key}, nodeId: ${JSON.stringify(n.nodeId)} }  # writable ${n.dataType ?? ''}`);
    for (const { n, key } of methods) lines.push(`          - { method: ${key}, objectId: ${JSON.stringify(n.parentId)}, methodId: ${JSON.stringify(n.nodeId)} }`);
  }
  if (nodes.length === 0) lines[lines.length - 1] = '    devices: []  # nothing found: try a larger --depth, or --all for the standard nodes';
  return lines.join('\n') + '\n';
}
