/**
 * A gRPC method definition with JSON bytes on the wire, for tests that need
 * a service without protoc: `jsonMethod('test.Greeter', 'Hello')`.
 */
import type * as grpc from '@grpc/grpc-js';

export const jsonBytes = (v: unknown): Buffer => Buffer.from(JSON.stringify(v ?? null));
export const parseJson = (b: Buffer): unknown => JSON.parse(b.toString());

export function jsonMethod(service: string, name: string, requestStream = false, responseStream = false): grpc.MethodDefinition<unknown, unknown> {
  return {
    path: `/${service}/${name}`,
    requestStream,
    responseStream,
    requestSerialize: jsonBytes,
    requestDeserialize: parseJson,
    responseSerialize: jsonBytes,
    responseDeserialize: parseJson,
    originalName: name[0]!.toLowerCase() + name.slice(1),
  };
}
