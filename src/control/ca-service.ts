/**
 * The certificate-signing service on the control plane's server: checks
 * the caller (ca-auth.ts), then has the CA sign the CSR. Refusals carry the
 * gRPC status of their mesh error code and a message that names the reason.
 */
import * as grpc from '@grpc/grpc-js';
import { isMeshError, MeshError } from '../errors.js';
import type { CertificateAuthority } from '../security/certs/ca.js';
import { readCsr } from '../security/certs/csr.js';
import { parseCertificates } from '../security/certs/pem.js';
import type { MeshLogger } from '../telemetry/logger.js';
import type { CaAuthenticator } from './ca-auth.js';
import { type CertificateRequest, type CertificateResponse, caServiceDefinition } from './ca-protocol.js';

export type { CaAuthenticator } from './ca-auth.js';

const GRPC_STATUS: Readonly<Record<string, grpc.status>> = {
  MESH_UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  MESH_PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  MESH_CERTIFICATE_INVALID: grpc.status.INVALID_ARGUMENT,
  MESH_INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
};

export function registerCaService(server: grpc.Server, ca: CertificateAuthority, authenticate: CaAuthenticator, logger: MeshLogger): void {
  server.addService(caServiceDefinition(), {
    CreateCertificate: (
      call: grpc.ServerUnaryCall<CertificateRequest, CertificateResponse>,
      callback: grpc.sendUnaryData<CertificateResponse>,
    ) => {
      sign(ca, authenticate, call).then(
        (chain) => callback(null, { cert_chain: chain }),
        (err: unknown) => {
          const code = isMeshError(err) ? (GRPC_STATUS[err.code] ?? grpc.status.INTERNAL) : grpc.status.INTERNAL;
          const message = err instanceof Error ? err.message : String(err);
          logger.warn('certificate request refused', { peer: call.getPeer(), error: message });
          callback({ code, details: message });
        },
      );
    },
  });
}

async function sign(
  ca: CertificateAuthority,
  authenticate: CaAuthenticator,
  call: grpc.ServerUnaryCall<CertificateRequest, CertificateResponse>,
): Promise<string[]> {
  const csrPem = call.request.csr;
  const request = readCsr(csrPem);
  authenticate(call.metadata, request, csrPem);
  const seconds = Number(call.request.validity_duration);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new MeshError('MESH_INVALID_ARGUMENT', `validity_duration must be 0 or more seconds, got ${call.request.validity_duration}`);
  }
  // The requested lifetime can shorten the CA's default, never lengthen it.
  const ttlMs = seconds > 0 ? Math.min(seconds * 1000, ca.workloadTtlMs) : undefined;
  const issued = await ca.signCsr(csrPem, ttlMs !== undefined ? { ttlMs } : {});
  const chain = parseCertificates(issued.chainPem, 'issued chain').map((c) => c.pem);
  return [...chain, ...issued.trustBundlePems];
}
