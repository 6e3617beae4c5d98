export { createMemoryRemote, type MemoryRemote } from './connector.js';
