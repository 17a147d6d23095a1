/**
 * `proxyless certs`: make a CA, issue workload certificates from it, and
 * inspect certificates, for local runs and for seeding istiod's `cacerts`.
 *
 *   certs create-ca --dir D --trust-domain T [--ttl 87600h] [--force]
 *   certs issue --ca-dir D (--spiffe-id ID | --namespace N [--service-account S]) --out DIR
 *               [--ttl 24h] [--layout istio|cert-manager|spire] [--cert NAME] [--key NAME] [--bundle NAME]
 *   certs inspect FILE
 *
 * Exit codes: 0 done, 1 failed, 2 usage error.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../config/duration.js';
import { isMeshError } from '../errors.js';
import { writeFileAtomic } from './certs/atomic-write.js';
import { CertificateAuthority, DEFAULT_ROOT_TTL_MS } from './certs/ca.js';
import { CA_FILES, readCaDirectory, writeCaDirectory } from './certs/ca-store.js';
import { inspectCertificate } from './certs/certificate-info.js';
import { CERTIFICATE_LAYOUTS, isLayoutName } from './certs/layouts.js';
import { parseCertificates } from './certs/pem.js';
import { formatIstioSpiffeId } from './identity/spiffe.js';

export interface CliOutput {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

const USAGE = `usage:
  proxyless certs create-ca --dir DIR --trust-domain DOMAIN [--ttl 87600h] [--force]
  proxyless certs issue --ca-dir DIR (--spiffe-id ID | --namespace NS [--service-account SA]) --out DIR
                        [--ttl 24h] [--layout istio|cert-manager|spire] [--cert NAME] [--key NAME] [--bundle NAME]
  proxyless certs inspect FILE
`;

class UsageError extends Error {}

export async function runCertsCommand(argv: readonly string[], out: CliOutput): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'create-ca':
        return await createCa(rest, out);
      case 'issue':
        return await issue(rest, out);
      case 'inspect':
        return await inspect(rest, out);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown certs command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      out.stderr.write(`proxyless certs: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    const code = isMeshError(err) ? ` [${err.code}]` : '';
    out.stderr.write(`proxyless certs ${command}: ${(err as Error).message ?? String(err)}${code}\n`);
    return 1;
  }
}

async function createCa(args: readonly string[], out: CliOutput): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      dir: { type: 'string' },
      'trust-domain': { type: 'string' },
      ttl: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const dir = required(values.dir, '--dir');
  const trustDomain = required(values['trust-domain'], '--trust-domain');
  const ttlMs = values.ttl === undefined ? DEFAULT_ROOT_TTL_MS : duration(values.ttl, '--ttl');
  const ca = await CertificateAuthority.createRoot({ trustDomain, ttlMs });
  await writeCaDirectory(ca, dir, { overwrite: values.force });
  out.stdout.write(
    `created a root CA for trust domain ${trustDomain} in ${dir}\n` +
      `  ${CA_FILES.certificate}, ${CA_FILES.key} (0600), ${CA_FILES.chain}, ${CA_FILES.root}\n` +
      `  valid until ${ca.notAfter.toISOString()}\n`,
  );
  return 0;
}

async function issue(args: readonly string[], out: CliOutput): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      'ca-dir': { type: 'string' },
      'spiffe-id': { type: 'string' },
      namespace: { type: 'string' },
      'service-account': { type: 'string' },
      out: { type: 'string' },
      ttl: { type: 'string' },
      layout: { type: 'string', default: 'istio' },
      cert: { type: 'string' },
      key: { type: 'string' },
      bundle: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const caDir = required(values['ca-dir'], '--ca-dir');
  const outDir = required(values.out, '--out');
  if (!isLayoutName(values.layout)) {
    throw new UsageError(`--layout must be one of ${Object.keys(CERTIFICATE_LAYOUTS).join(', ')}; got ${JSON.stringify(values.layout)}`);
  }
  if (values['spiffe-id'] !== undefined && (values.namespace !== undefined || values['service-account'] !== undefined)) {
    throw new UsageError('give either --spiffe-id or --namespace/--service-account, not both');
  }
  if (values['spiffe-id'] === undefined && values.namespace === undefined) {
    throw new UsageError('missing --spiffe-id (or --namespace and --service-account)');
  }
  const ttlMs = values.ttl === undefined ? undefined : duration(values.ttl, '--ttl');
  const layout = CERTIFICATE_LAYOUTS[values.layout];
  const names = {
    certificate: fileName(values.cert, '--cert') ?? layout.certificate,
    key: fileName(values.key, '--key') ?? layout.key,
    bundle: fileName(values.bundle, '--bundle') ?? layout.bundle,
  };
  if (new Set(Object.values(names)).size !== 3) throw new UsageError('--cert, --key and --bundle must name three different files');

  const ca = await readCaDirectory(caDir);
  const spiffeId =
    values['spiffe-id'] ??
    formatIstioSpiffeId({
      trustDomain: ca.trustDomain,
      namespace: values.namespace!,
      serviceAccount: values['service-account'] ?? 'default',
    });
  const cert = await ca.issue({ spiffeId, ...(ttlMs !== undefined ? { ttlMs } : {}) });

  await mkdir(outDir, { recursive: true, mode: 0o755 });
  await writeFileAtomic(join(outDir, names.certificate), cert.chainPem, 0o644);
  await writeFileAtomic(join(outDir, names.bundle), cert.trustBundlePems.join(''), 0o644);
  await writeFileAtomic(join(outDir, names.key), cert.keyPem, 0o600);
  out.stdout.write(
    `issued ${cert.spiffeId}\n` +
      `  serial ${cert.serialNumber}, valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}\n` +
      `  wrote ${names.certificate}, ${names.key} (0600), ${names.bundle} in ${outDir}\n`,
  );
  return 0;
}

async function inspect(args: readonly string[], out: CliOutput): Promise<number> {
  const { positionals } = parseArgs({ args: [...args], options: {}, strict: true, allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError('inspect takes exactly one FILE');
  const file = positionals[0]!;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const certs = parseCertificates(text, file);
  const now = Date.now();
  certs.forEach((c, i) => {
    const info = inspectCertificate(c.x509);
    const lines: Array<[string, string]> = [
      ['Subject', info.subject || '(empty)'],
      ['SPIFFE ID', info.spiffeId ?? '(none)'],
      ['Issuer', info.issuer || '(empty)'],
      ['Not before', info.notBefore.toISOString()],
      ['Not after', `${info.notAfter.toISOString()} (${relative(info.notAfter.getTime() - now)})`],
      ['Serial', info.serialNumber],
      ['Key', info.keyType],
      ['CA', info.isCa ? (info.selfSigned ? 'yes (self-signed root)' : 'yes') : 'no'],
    ];
    const others = info.subjectAltNames.uris.filter((u) => u !== info.spiffeId);
    if (others.length > 0) lines.push(['Other URIs', others.join(', ')]);
    if (info.subjectAltNames.dnsNames.length > 0) lines.push(['DNS names', info.subjectAltNames.dnsNames.join(', ')]);
    if (info.nameConstraints !== undefined) {
      const permitted = info.nameConstraints.permittedUris.map((u) => `URI:${u}`).join(', ');
      lines.push(['Permits', permitted || '(no URI subtrees)']);
    }
    lines.push(['SHA-256', info.fingerprint256]);
    const head = certs.length > 1 ? `Certificate ${i + 1} of ${certs.length}\n` : '';
    out.stdout.write(`${i > 0 ? '\n' : ''}${head}${lines.map(([k, v]) => `  ${`${k}:`.padEnd(12)} ${v}`).join('\n')}\n`);
  });
  return 0;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`missing ${flag}`);
  return value;
}

/** A plain file name inside --out; paths would let one flag write outside the output directory. */
function fileName(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (value === '' || value === '.' || value === '..' || /[\\/]/.test(value)) {
    throw new UsageError(`${flag} must be a file name inside --out; got ${JSON.stringify(value)}`);
  }
  return value;
}

function duration(text: string, flag: string): number {
  // A bare number would be read as milliseconds, which is never what a TTL means here.
  const ms = /^\s*[\d.]+\s*$/.test(text) ? undefined : parseDuration(text);
  if (ms === undefined || !(ms > 0)) throw new UsageError(`${flag} must be a duration such as 24h or 90m; got ${JSON.stringify(text)}`);
  return ms;
}

function relative(ms: number): string {
  const abs = Math.abs(ms);
  const h = Math.floor(abs / 3_600_000);
  const text = h >= 48 ? `${Math.floor(h / 24)}d` : h >= 1 ? `${h}h${Math.floor((abs % 3_600_000) / 60_000)}m` : `${Math.floor(abs / 60_000)}m`;
  return ms >= 0 ? `expires in ${text}` : `EXPIRED ${text} ago`;
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}
