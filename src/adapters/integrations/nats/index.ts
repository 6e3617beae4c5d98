export { natsConnector } from './connector.js';
