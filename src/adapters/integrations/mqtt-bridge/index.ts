export { mqttBridgeConnector } from './connector.js';
