/**
 * GrpcWireBytes: each message's size goes from the wrapped (de)serializer
 * to the call that sends or reads that very message, including reads that
 * come after other messages were deserialized (a gRPC server reads when
 * its handler asks, not when the bytes arrive).
 */
import { expect, test } from 'vitest';
import { GrpcWireBytes } from '../../../src/telemetry/grpc-wire-bytes.js';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const parse = (b: Buffer) => JSON.parse(b.toString()) as unknown;

test('a sent message takes its serialized length plus the 5-byte prefix, once', () => {
  const wire = new GrpcWireBytes();
  const serialize = wire.serializer(json);
  const message = { text: 'hello' };
  const bytes = serialize(message);
  expect(bytes.toString()).toBe('{"text":"hello"}');
  expect(wire.takeSent(message)).toBe(16 + 5);
  // Taken: a second send of the same object whose serialization did not run counts nothing.
  expect(wire.takeSent(message)).toBe(0);
  // Another object than the one serialized last counts nothing either.
  serialize({ a: 1 });
  expect(wire.takeSent({ a: 1 })).toBe(0);
});

test('a received message read at once takes its size; one read later is found although others came between', () => {
  const wire = new GrpcWireBytes();
  const deserialize = wire.deserializer(parse);
  const first = deserialize(json({ call: 'a', text: 'x'.repeat(10) }));
  const second = deserialize(json({ call: 'b' }));
  const third = deserialize(json({ call: 'c', text: 'yyy' }));
  // Read out of arrival order, as server handlers do.
  expect(wire.takeReceived(second)).toBe(JSON.stringify({ call: 'b' }).length + 5);
  expect(wire.takeReceived(third)).toBe(JSON.stringify({ call: 'c', text: 'yyy' }).length + 5);
  expect(wire.takeReceived(first)).toBe(JSON.stringify({ call: 'a', text: 'x'.repeat(10) }).length + 5);
  // Each once.
  expect(wire.takeReceived(first)).toBe(0);
  expect(wire.takeReceived(third)).toBe(0);
});

test('a message no wrapped deserializer made (grpc-js\'s null for a missing unary reply) counts 0', () => {
  const wire = new GrpcWireBytes();
  const deserialize = wire.deserializer(parse);
  const m = deserialize(json({ k: 1 }));
  expect(wire.takeReceived(null)).toBe(0);
  expect(wire.takeReceived({ k: 1 })).toBe(0);
  expect(wire.takeReceived(m)).toBe(12);
});

test('a serializer that throws notes nothing', () => {
  const wire = new GrpcWireBytes();
  const serialize = wire.serializer(() => {
    throw new Error('bad message');
  });
  const message = {};
  expect(() => serialize(message)).toThrow('bad message');
  expect(wire.takeSent(message)).toBe(0);
});
