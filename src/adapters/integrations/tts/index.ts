export { ttsConnector } from './connector.js';
