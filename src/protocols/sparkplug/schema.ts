/**
 * The Sparkplug B `Payload` message, built in code with protobufjs' reflection API from the field
 * numbers of the Sparkplug 3.0 specification (ch. 6 "Payloads"). Only the
 * parts a host or a gateway needs are declared: metrics with their value oneof, and data sets.
 * Templates, property sets and metadata (Metric fields 8, 9, 18) are left undeclared, so protobufjs
 * skips them as unknown fields instead of failing the whole payload.
 */
import protobuf from 'protobufjs';

const { Root, Type, Field, OneOf } = protobuf;

function dataSetType(): protobuf.Type {
  // DataSet: column names and types, rows of elements (a value oneof of their own).
  const element = new Type('DataSetValue')
    .add(new Field('int_value', 1, 'uint32'))
    .add(new Field('long_value', 2, 'uint64'))
    .add(new Field('float_value', 3, 'float'))
    .add(new Field('double_value', 4, 'double'))
    .add(new Field('boolean_value', 5, 'bool'))
    .add(new Field('string_value', 6, 'string'))
    .add(new OneOf('value', ['int_value', 'long_value', 'float_value', 'double_value', 'boolean_value', 'string_value']));
  const row = new Type('Row').add(new Field('elements', 1, 'DataSetValue', 'repeated'));
  return new Type('DataSet')
    .add(new Field('num_of_columns', 1, 'uint64'))
    .add(new Field('columns', 2, 'string', 'repeated'))
    .add(new Field('types', 3, 'uint32', 'repeated'))
    .add(new Field('rows', 4, 'Row', 'repeated'))
    .add(element)
    .add(row);
}

function metricType(): protobuf.Type {
  // Metric.
  return new Type('Metric')
    .add(new Field('name', 1, 'string'))
    .add(new Field('alias', 2, 'uint64'))
    .add(new Field('timestamp', 3, 'uint64'))
    .add(new Field('datatype', 4, 'uint32'))
    .add(new Field('is_historical', 5, 'bool'))
    .add(new Field('is_transient', 6, 'bool'))
    .add(new Field('is_null', 7, 'bool'))
    .add(new Field('int_value', 10, 'uint32'))
    .add(new Field('long_value', 11, 'uint64'))
    .add(new Field('float_value', 12, 'float'))
    .add(new Field('double_value', 13, 'double'))
    .add(new Field('boolean_value', 14, 'bool'))
    .add(new Field('string_value', 15, 'string'))
    .add(new Field('bytes_value', 16, 'bytes'))
    .add(new Field('dataset_value', 17, 'DataSet'))
    .add(new OneOf('value', ['int_value', 'long_value', 'float_value', 'double_value', 'boolean_value', 'string_value', 'bytes_value', 'dataset_value']));
}

/** The package name is ours: protobuf never puts it on the wire. */
export function buildPayloadType(): protobuf.Type {
  const payload = new Type('Payload')
    .add(new Field('timestamp', 1, 'uint64'))
    .add(new Field('metrics', 2, 'Metric', 'repeated'))
    .add(new Field('seq', 3, 'uint64'))
    .add(new Field('uuid', 4, 'string'))
    .add(new Field('body', 5, 'bytes'))
    .add(metricType())
    .add(dataSetType());
  new Root().define('sparkplug_b').add(payload);
  payload.resolveAll();
  return payload;
}
