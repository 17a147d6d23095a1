/**
 * The certificate-signing service's wire shape: Istio's
 * `istio.v1.auth.IstioCertificateService/CreateCertificate`, so agents
 * written for istiod can ask this control plane too. The two messages are
 * defined here with protobufjs reflection (field numbers as istiod's), not
 * from a copied .proto file. The request's `metadata` field (4) is not
 * read; protobuf skips it.
 */
import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

export const CA_SERVICE_PATH = '/istio.v1.auth.IstioCertificateService/CreateCertificate';

export interface CertificateRequest {
  /** PEM PKCS#10 request. */
  csr: string;
  /** Requested lifetime in seconds (0: the CA's default). */
  validity_duration: string;
}

export interface CertificateResponse {
  /** Leaf first, then intermediates, then the root, each PEM (Istio's order). */
  cert_chain: string[];
}

let types: { request: protobuf.Type; response: protobuf.Type } | undefined;

function messageTypes(): { request: protobuf.Type; response: protobuf.Type } {
  if (types) return types;
  const request = new protobuf.Type('IstioCertificateRequest')
    .add(new protobuf.Field('csr', 1, 'string'))
    .add(new protobuf.Field('validity_duration', 3, 'int64'));
  const response = new protobuf.Type('IstioCertificateResponse').add(new protobuf.Field('cert_chain', 1, 'string', 'repeated'));
  new protobuf.Root().define('istio.v1.auth').add(request).add(response);
  types = { request, response };
  return types;
}

function codec<T>(type: () => protobuf.Type) {
  return {
    serialize: (value: T) => Buffer.from(type().encode(type().fromObject(value as Record<string, unknown>)).finish()),
    deserialize: (bytes: Buffer) => type().toObject(type().decode(bytes), { longs: String, defaults: true }) as T,
  };
}

/** The grpc-js service definition, for the server and for clients (`makeGenericClientConstructor`). */
export function caServiceDefinition(): grpc.ServiceDefinition {
  const req = codec<CertificateRequest>(() => messageTypes().request);
  const res = codec<CertificateResponse>(() => messageTypes().response);
  return {
    CreateCertificate: {
      path: CA_SERVICE_PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: req.serialize,
      requestDeserialize: req.deserialize,
      responseSerialize: res.serialize,
      responseDeserialize: res.deserialize,
    },
  };
}
