export { fhirConnector, FhirConfig } from './connector.js';
