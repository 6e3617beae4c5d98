/** The MQTT client wire helpers (src/protocols/mqtt/), which the simulator uses for its devices; re-exported for the bench. */
export * from '../../src/protocols/mqtt/client-wire.js';
