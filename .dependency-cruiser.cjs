/**
 * The layer rules of src/, checked in CI by `npm run depcheck` (part of `npm test`).
 * docs/ARCHITECTURE.md explains the layout; this file is what enforces it.
 *
 * Layers, innermost first (an arrow is "may import"):
 *
 *   domain/      pure types and functions              → domain
 *   protocols/   wire formats shared by platform, edge → protocols, domain
 *                and simulator (SMPP, Sparkplug, Modbus registers, AT, MQTT client bytes, JSON, REST client)
 *   ports.ts,    the interfaces services need and      → ports, domain
 *   ports/       adapters implement (ports.ts re-exports src/ports/*.ts)
 *   services/    use cases over ports                  → services, ports, domain, protocols
 *   adapters/    one folder per implementation of a    → its own folder, the shared files of its kind
 *                port (adapters/<kind>/<impl>/)           (adapters/<kind>/*.ts), ports, domain, protocols
 *   api/         the management REST API (Fastify)     → api, services, ports, domain, protocols
 *   edge/        the edge gateway (own process, own     → edge, domain, protocols
 *                ports in edge/ports.ts)
 *   simulator/   device simulator (own process)        → simulator, scenarios, domain, protocols
 *   scenarios/   scenario packs played by the simulator → scenarios, simulator, domain, protocols
 *   apps/        composition roots: the only place     → anything
 *                that picks implementations
 *
 * domain, protocols, ports and services use no driver or framework (DRIVERS below: SQLite,
 * serial ports, MQTT/CoAP/HTTP servers and clients, the logger, metrics) and open no sockets.
 * Nothing imports apps/ but apps/. Type-only imports count: a layer that needs a type from an
 * outer layer means the type is in the wrong place (move it to domain/ or ports).
 * No import cycles anywhere.
 * There is no list of known violations: `npm run depcheck` must report 0 violations, 0 cycles.
 */

/** A path regex for a folder of src/ (or a file of src/ without its extension). */
const layer = (name) => `^src/${name}(/|\\.ts$)`;
const NETWORK = '^(node:)?(net|dgram|tls|http|https|http2)$';
/** Drivers and frameworks: only adapters, the API, the edge, the simulator and apps use them. */
const DRIVERS = 'node_modules/(nats|better-sqlite3|serialport|@serialport|modbus-serial|@bacnet-js|mqtt|coap|fastify|@fastify|ws|pino|prom-client|smpp)/';
const EVERY_LAYER = ['domain', 'protocols', 'ports', 'services', 'adapters', 'api', 'edge', 'simulator', 'scenarios', 'apps'];
/** Every layer except `allowed` (each rule lists its own layer among them). */
const others = (...allowed) => EVERY_LAYER.filter((l) => !allowed.includes(l)).map(layer);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle couples every module on it; break it with a port, a callback, or by moving the shared part down a layer.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing.',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'domain/ is the core: pure types and functions, no ports, no I/O.',
      from: { path: layer('domain') },
      to: { path: [...others('domain'), NETWORK, DRIVERS, '^(node:)?(fs|child_process|dgram|worker_threads)$'] },
    },
    {
      name: 'protocols-are-standalone',
      severity: 'error',
      comment: 'protocols/ are wire-format libraries any process may use: other protocols and domain types only, and no sockets of their own (a type-only import of a socket type is fine).',
      from: { path: layer('protocols') },
      to: { path: [...others('protocols', 'domain'), DRIVERS] },
    },
    {
      name: 'protocols-open-no-sockets',
      severity: 'error',
      from: { path: layer('protocols') },
      to: { path: NETWORK, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'ports-see-domain-only',
      severity: 'error',
      comment: 'ports.ts and src/ports/ are interfaces over domain types; they never name a service or an adapter.',
      from: { path: layer('ports') },
      to: { path: [...others('ports', 'domain'), DRIVERS] },
    },
    {
      name: 'services-over-ports',
      severity: 'error',
      comment: 'Services are use cases over ports: no adapter, no app, no API, no driver, no sockets.',
      from: { path: layer('services') },
      to: { path: [...others('services', 'ports', 'domain', 'protocols'), NETWORK, DRIVERS] },
    },
    {
      name: 'adapters-not-outward',
      severity: 'error',
      comment: 'Adapters implement ports; they never reach services (they get ports injected), the API, an app (the app config included: adapters take their own option objects), the edge or the simulator.',
      from: { path: layer('adapters') },
      to: { path: others('adapters', 'ports', 'domain', 'protocols') },
    },
    {
      name: 'adapters-own-folder',
      severity: 'error',
      comment: 'An adapter (adapters/<kind>/<impl>/) imports its own folder and the shared files of its kind (adapters/<kind>/*.ts), never another implementation.',
      from: { path: '^src/adapters/([^/]+)/([^/]+)/', pathNot: ['^src/adapters/transport/sparkplug/', '^src/adapters/store/(postgres|sqlite)/'] },
      to: { path: '^src/adapters/', pathNot: ['^src/adapters/$1/$2/', '^src/adapters/$1/[^/]+\\.ts$'] },
    },
    {
      name: 'sql-stores-share-rows',
      severity: 'error',
      comment:
        'adapters-own-folder for the two SQL stores, plus their shared row shapes and mappers (adapters/store/rows/: ' +
        'both schemas name their columns alike). Never each other, never the memory store.',
      from: { path: '^src/adapters/store/(postgres|sqlite)/' },
      to: { path: '^src/adapters/', pathNot: ['^src/adapters/store/$1/', '^src/adapters/store/rows/', '^src/adapters/store/[^/]+\\.ts$'] },
    },
    {
      name: 'store-rows-are-plain',
      severity: 'error',
      comment:
        'adapters/store/rows/ holds row shapes and row-to-domain mappers only: domain and port types and the store kind\'s ' +
        'shared files (adapters/store/*.ts, the make* canonicalisers); no npm package, no node built-in, no store implementation.',
      from: { path: '^src/adapters/store/rows/' },
      to: { path: ['^src/', 'node_modules/', '^(node:)?[a-z0-9_]+$'], pathNot: [layer('domain'), layer('ports'), '^src/adapters/store/rows/', '^src/adapters/store/[^/]+\\.ts$'] },
    },
    {
      name: 'adapters-own-folder-sparkplug',
      severity: 'error',
      comment:
        'The one deliberate exception to adapters-own-folder: Sparkplug B edge nodes live on the embedded broker, so transport/sparkplug may use ' +
        "transport/mqtt's broker types and topic helpers. Never the other way round (the broker gets Sparkplug as an interceptor from apps/).",
      from: { path: '^src/adapters/transport/sparkplug/' },
      to: { path: '^src/adapters/', pathNot: ['^src/adapters/transport/sparkplug/', '^src/adapters/transport/mqtt/', '^src/adapters/transport/[^/]+\\.ts$'] },
    },
    {
      name: 'adapter-kind-shared-files',
      severity: 'error',
      comment: "A kind's shared files (adapters/<kind>/*.ts, e.g. adapters/store/shared.ts, adapters/codec/builtin.ts) serve that kind only.",
      from: { path: '^src/adapters/([^/]+)/[^/]+\\.ts$' },
      to: { path: '^src/adapters/', pathNot: '^src/adapters/$1/' },
    },
    {
      name: 'api-over-services',
      severity: 'error',
      comment:
        'The REST API calls services; it never picks or reaches an implementation. Deliberate exception: the HTTP listeners cap ' +
        'their connections with the same helper as the MQTT listeners (adapters/transport/connection-cap.ts, node:net plumbing only).',
      from: { path: layer('api') },
      to: { path: others('api', 'services', 'ports', 'domain', 'protocols'), pathNot: '^src/adapters/transport/connection-cap\\.ts$' },
    },
    {
      name: 'edge-is-its-own-process',
      severity: 'error',
      comment: 'The edge shares only domain/ and protocols/ with the platform (its ports are edge/ports.ts); it never imports platform services, adapters, the simulator or an app.',
      from: { path: layer('edge') },
      to: { path: others('edge', 'domain', 'protocols') },
    },
    {
      name: 'simulator-is-its-own-process',
      severity: 'error',
      comment: 'The simulator plays devices over the wire: domain/ and protocols/ only (plus the scenario packs it plays), never the edge or the platform.',
      from: { path: layer('simulator') },
      to: { path: others('simulator', 'scenarios', 'domain', 'protocols') },
    },
    {
      name: 'scenarios-are-packs',
      severity: 'error',
      comment: 'Scenario packs are models for the simulator and REST installs: no platform internals.',
      from: { path: layer('scenarios') },
      to: { path: others('scenarios', 'simulator', 'domain', 'protocols') },
    },
  ],
  options: {
    // Our modules, node's built-ins and npm packages (not followed) for the no-sockets and no-drivers rules.
    includeOnly: '^(src/|(node:)?[a-z0-9_]+$)|node_modules/',
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are dependencies too (see above).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
