/**
 * The caller's side of the control plane's certificate service: make a key
 * and CSR, prove who we are (bootstrap token, or the current certificate
 * signing the new CSR), and get back the chain. What a certificate provider
 * calls to obtain and renew a workload certificate from the control plane.
 */
import { createSign } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { MeshError } from '../errors.js';
import { createCsr } from '../security/certs/csr.js';
import { CERTIFICATE_HEADER, SIGNATURE_HEADER } from './ca-auth.js';
import { type CertificateRequest, type CertificateResponse, caServiceDefinition } from './ca-protocol.js';

export interface CertificateRequestOptions {
  /** `host:port` of the control plane. */
  readonly address: string;
  readonly spiffeId: string;
  /** A bootstrap token from the control plane's token file. */
  readonly token?: string;
  /** The certificate being renewed (leaf first) and its key. */
  readonly current?: { readonly chainPem: string; readonly keyPem: string };
  /** Ask for a shorter lifetime than the CA's default. */
  readonly ttlMs?: number;
  readonly credentials?: grpc.ChannelCredentials;
  readonly deadlineMs?: number;
}

export interface ObtainedCertificate {
  /** Leaf, then intermediates. */
  readonly chainPem: string;
  readonly keyPem: string;
  readonly trustBundlePem: string;
}

type CaClient = grpc.Client & {
  CreateCertificate(
    req: CertificateRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: CertificateResponse) => void,
  ): void;
};

export async function requestWorkloadCertificate(options: CertificateRequestOptions): Promise<ObtainedCertificate> {
  const { csrPem, keyPem } = await createCsr({ spiffeId: options.spiffeId });
  const metadata = new grpc.Metadata();
  if (options.token !== undefined) metadata.set('authorization', `Bearer ${options.token}`);
  if (options.current !== undefined) {
    metadata.set(CERTIFICATE_HEADER, Buffer.from(options.current.chainPem).toString('base64'));
    const signer = createSign('sha256');
    signer.update(csrPem);
    metadata.set(SIGNATURE_HEADER, signer.sign(options.current.keyPem).toString('base64'));
  }
  const Client = grpc.makeGenericClientConstructor(caServiceDefinition(), 'IstioCertificateService');
  const client = new Client(options.address, options.credentials ?? grpc.credentials.createInsecure()) as unknown as CaClient;
  try {
    const res = await new Promise<CertificateResponse>((resolve, reject) => {
      const request = { csr: csrPem, validity_duration: String(Math.floor((options.ttlMs ?? 0) / 1000)) };
      client.CreateCertificate(request, metadata, { deadline: Date.now() + (options.deadlineMs ?? 10_000) }, (err, r) =>
        err ? reject(err) : resolve(r!),
      );
    });
    if (res.cert_chain.length < 2) {
      throw new MeshError('MESH_CERTIFICATE_INVALID', `the control plane answered with ${res.cert_chain.length} certificate(s); expected the leaf and the root`);
    }
    // Istio's order: leaf, intermediates, root last.
    return { chainPem: res.cert_chain.slice(0, -1).join(''), keyPem, trustBundlePem: res.cert_chain.at(-1)! };
  } finally {
    client.close();
  }
}
