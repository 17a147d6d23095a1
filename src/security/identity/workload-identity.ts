/**
 * This process's own SPIFFE identity, from code options first, then the
 * environment (Istio and the Kubernetes downward API name the same things):
 *
 * - MESH_TRUST_DOMAIN, default `cluster.local` (Istio's default);
 * - MESH_NAMESPACE, else POD_NAMESPACE, default `default`;
 * - MESH_SERVICE_ACCOUNT, default `default` (the account a pod gets when it names none).
 *
 * Bad input is a config error naming the option or variable it came from.
 */
import { ConfigError, type ConfigIssue } from '../../config/config-error.js';
import { checkPathSegment, checkSpiffeId, checkTrustDomain, formatIstioSpiffeId, istioIdentityOf } from './spiffe.js';

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_SERVICE_ACCOUNT = 'default';

export interface WorkloadIdentity {
  readonly trustDomain: string;
  /** Undefined when the identity was given as a SPIFFE ID not in Istio's form. */
  readonly namespace: string | undefined;
  readonly serviceAccount: string | undefined;
  readonly spiffeId: string;
}

export interface WorkloadIdentityOptions {
  readonly trustDomain?: string;
  readonly namespace?: string;
  readonly serviceAccount?: string;
  /** A complete ID; it overrides the three parts, which must then agree with it or be absent. */
  readonly spiffeId?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

interface Picked {
  readonly value: string;
  /** Where it came from, for messages: `identity.namespace`, `POD_NAMESPACE`, or `default`. */
  readonly from: string;
  readonly source: 'options' | 'env' | 'default';
}

/**
 * Resolve and validate. Throws `ConfigError` listing every bad field, each
 * under the option path or variable name it came from.
 */
export function resolveWorkloadIdentity(options: WorkloadIdentityOptions = {}, env: Env = process.env): WorkloadIdentity {
  const issues: ConfigIssue[] = [];
  const sources = new Set<string>();
  const note = (p: Picked, message: string) => {
    issues.push({ path: p.from, message });
    sources.add(p.source);
  };

  if (options.spiffeId !== undefined) {
    const checked = checkSpiffeId(options.spiffeId);
    if (!checked.ok) throw new ConfigError('options', [{ path: 'identity.spiffeId', message: checked.reason }]);
    if (checked.id.path === '') {
      throw new ConfigError('options', [
        { path: 'identity.spiffeId', message: 'a workload ID needs a path, e.g. /ns/<namespace>/sa/<account>' },
      ]);
    }
    const istio = istioIdentityOf(checked.id);
    const mismatch = (field: keyof WorkloadIdentityOptions, actual: string | undefined) => {
      const given = options[field];
      if (given !== undefined && given !== actual) {
        issues.push({
          path: `identity.${field}`,
          message: `${JSON.stringify(given)} disagrees with identity.spiffeId (${actual === undefined ? 'which has no such part' : JSON.stringify(actual)})`,
        });
      }
    };
    mismatch('trustDomain', checked.id.trustDomain);
    mismatch('namespace', istio?.namespace);
    mismatch('serviceAccount', istio?.serviceAccount);
    if (issues.length > 0) throw new ConfigError('options', issues);
    return {
      trustDomain: checked.id.trustDomain,
      namespace: istio?.namespace,
      serviceAccount: istio?.serviceAccount,
      spiffeId: checked.id.uri,
    };
  }

  const trustDomain = pick(options.trustDomain, 'identity.trustDomain', env, ['MESH_TRUST_DOMAIN'], DEFAULT_TRUST_DOMAIN);
  const namespace = pick(options.namespace, 'identity.namespace', env, ['MESH_NAMESPACE', 'POD_NAMESPACE'], DEFAULT_NAMESPACE);
  const serviceAccount = pick(
    options.serviceAccount,
    'identity.serviceAccount',
    env,
    ['MESH_SERVICE_ACCOUNT'],
    DEFAULT_SERVICE_ACCOUNT,
  );

  const td = checkTrustDomain(trustDomain.value);
  if (td !== undefined) note(trustDomain, td);
  const ns = checkPathSegment(namespace.value);
  if (ns !== undefined) note(namespace, `not usable as a namespace in a SPIFFE ID: ${ns}`);
  const sa = checkPathSegment(serviceAccount.value);
  if (sa !== undefined) note(serviceAccount, `not usable as a service account in a SPIFFE ID: ${sa}`);
  if (issues.length > 0) throw new ConfigError([...sources].join(' and '), issues);

  const parts = { trustDomain: trustDomain.value, namespace: namespace.value, serviceAccount: serviceAccount.value };
  return { ...parts, spiffeId: formatIstioSpiffeId(parts) };
}

function pick(option: string | undefined, optionPath: string, env: Env, names: readonly string[], fallback: string): Picked {
  if (option !== undefined) return { value: option, from: optionPath, source: 'options' };
  for (const name of names) {
    const raw = env[name]?.trim();
    if (raw !== undefined && raw !== '') return { value: raw, from: name, source: 'env' };
  }
  return { value: fallback, from: optionPath, source: 'default' };
}
