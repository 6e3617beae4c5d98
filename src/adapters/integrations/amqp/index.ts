export { amqpConnector } from './connector.js';
