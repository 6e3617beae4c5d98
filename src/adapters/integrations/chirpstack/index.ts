export { chirpstackConnector } from './connector.js';
