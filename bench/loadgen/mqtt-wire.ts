/** The MQTT wire helpers moved to the simulator, which uses them for its devices; re-exported for the bench. */
export * from '../../src/simulator/clients/mqtt/wire.js';
