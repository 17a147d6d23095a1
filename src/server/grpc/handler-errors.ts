/**
 * A MeshError out of a gRPC handler (an open circuit downstream, a
 * deadline the handler's own call ran out of) answers with the status the
 * table in errors.ts gives its code. grpc-js only reads a numeric `code`
 * off an error and would send UNKNOWN for the mesh's string codes, so the
 * handler's callback (unary, client-streaming) or its stream's 'error'
 * event (server-streaming, bidi) gets a grpc-js-shaped error instead.
 */
import { Metadata, type UntypedHandleCall } from '@grpc/grpc-js';
import { GRPC_ERROR_CODE_TRAILER, grpcStatusOf, isMeshError, type MeshError } from '../../errors.js';

export type MethodType = 'unary' | 'clientStream' | 'serverStream' | 'bidi';

/** The error grpc-js turns into the mapped status; the trailer `mesh-error-code` keeps the mesh's code for the caller. */
export function asGrpcError(err: MeshError): Error & { code: number; details: string; metadata: Metadata } {
  const metadata = new Metadata();
  metadata.set(GRPC_ERROR_CODE_TRAILER, err.code);
  return Object.assign(new Error(err.message), { code: grpcStatusOf(err), details: err.message, metadata });
}

type Callback = (err: unknown, ...rest: unknown[]) => void;
type AnyHandler = (call: unknown, callback?: Callback) => unknown;

export function mapMeshErrors(handler: UntypedHandleCall, type: MethodType): UntypedHandleCall {
  const h = handler as unknown as AnyHandler;
  if (type === 'unary' || type === 'clientStream') {
    return ((call: unknown, callback: Callback) =>
      h(call, (err, ...rest) => callback(isMeshError(err) ? asGrpcError(err) : err, ...rest))) as unknown as UntypedHandleCall;
  }
  return ((call: { emit: (event: string | symbol, ...args: unknown[]) => boolean }) => {
    const emit = call.emit;
    call.emit = function (this: unknown, event, ...args) {
      if (event === 'error' && isMeshError(args[0])) args[0] = asGrpcError(args[0]);
      return emit.call(this, event, ...args);
    };
    return h(call);
  }) as unknown as UntypedHandleCall;
}
