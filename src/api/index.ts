export { buildHttpApp, type HttpAppOptions } from './app.js';
export type { ApiDeps, AttributeApi, MetricsRenderer, RpcApi, StatusApi } from './deps.js';
export { principalOf } from './principal.js';
