/**
 * The file names each common issuer writes into a mounted directory. The
 * certificate file holds the leaf followed by any intermediates in all three.
 */
export interface CertificateFileNames {
  readonly certificate: string;
  readonly key: string;
  readonly bundle: string;
}

export const CERTIFICATE_LAYOUTS = {
  /** spiffe-helper writing SPIRE SVIDs. */
  spire: { certificate: 'svid.pem', key: 'svid_key.pem', bundle: 'bundle.pem' },
  /** A cert-manager Certificate's kubernetes.io/tls secret (and csi-driver-spiffe). */
  'cert-manager': { certificate: 'tls.crt', key: 'tls.key', bundle: 'ca.crt' },
  /** Istio's mounted workload certificates (`/etc/certs`, the istio-certs volume). */
  istio: { certificate: 'cert-chain.pem', key: 'key.pem', bundle: 'root-cert.pem' },
} as const satisfies Record<string, CertificateFileNames>;

export type CertificateLayoutName = keyof typeof CERTIFICATE_LAYOUTS;

export function isLayoutName(name: string): name is CertificateLayoutName {
  return Object.hasOwn(CERTIFICATE_LAYOUTS, name);
}
