export { OpcuaConnector } from './connector.js';
export { OpcuaSchema, opcuaProblems, type OpcuaConfig } from './schema.js';
