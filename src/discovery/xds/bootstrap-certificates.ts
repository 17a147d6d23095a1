/**
 * The bootstrap's certificate provider as the mesh's own certificate
 * source. istiod's proxyless agent writes a `file_watcher` provider whose
 * files (cert-chain.pem, key.pem, root-cert.pem) sit in one directory: the
 * Istio layout the `files` provider already reads and watches. Clusters with
 * mTLS then present that certificate, as gRPC's clients do with
 * `tls_certificate_provider_instance`.
 */
import path from 'node:path';
import { CERTIFICATE_LAYOUTS } from '../../security/certs/layouts.js';
import type { XdsBootstrap } from './bootstrap.js';

export interface BootstrapCertificates {
  readonly provider: 'files';
  readonly dir: string;
}

/** The `mesh.security.certificates` block the bootstrap implies, or why it implies none. */
export function bootstrapCertificates(b: XdsBootstrap): BootstrapCertificates | string | undefined {
  const provider = b.certificateProviders.default ?? Object.values(b.certificateProviders)[0];
  if (provider === undefined) return undefined;
  if (provider.pluginName !== 'file_watcher') return `certificate provider plugin ${JSON.stringify(provider.pluginName)} is not supported (only file_watcher)`;
  const files = ['certificate_file', 'private_key_file', 'ca_certificate_file'].map((k) => provider.config[k]);
  if (files.some((f) => typeof f !== 'string')) return 'file_watcher needs certificate_file, private_key_file and ca_certificate_file';
  const [cert, key, ca] = files as string[];
  const dir = path.dirname(cert!);
  const names = [cert, key, ca].map((f) => path.basename(f!));
  const fits = Object.values(CERTIFICATE_LAYOUTS).some(
    (l) => names[0] === l.certificate && names[1] === l.key && names[2] === l.bundle,
  );
  if (!fits || path.dirname(key!) !== dir || path.dirname(ca!) !== dir) {
    return `file_watcher files must sit in one directory with a known layout (istio: cert-chain.pem, key.pem, root-cert.pem); got ${[cert, key, ca].join(', ')}`;
  }
  return { provider: 'files', dir };
}
