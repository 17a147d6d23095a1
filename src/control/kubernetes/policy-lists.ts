/**
 * AuthorizationPolicies and RequestAuthentications from the cluster: they
 * are not folded into services (config/istio) but kept as the config's
 * policy lists, as a file keeps them, and served per workload in inbound
 * listeners. When validation rejects one (`authorizationPolicies[2].spec…`),
 * the issue is traced back to the object it came from, so that object alone
 * is rejected by name while the rest keeps serving.
 */
import type { ConfigIssue } from '../../config/config-error.js';
import type { Raw } from '../../config/istio/reader.js';

const LISTS: Readonly<Record<string, string>> = {
  AuthorizationPolicy: 'authorizationPolicies',
  RequestAuthentication: 'requestAuthentications',
};

export interface PolicyLists {
  readonly lists: Record<string, Raw[]>;
  /** `authorizationPolicies[0]` → `AuthorizationPolicy shop/deny-admin`. */
  readonly owners: ReadonlyMap<string, string>;
}

/** The policy objects among `ids` (`Kind namespace/name`), as config lists. */
export function policyLists(ids: readonly string[], docs: ReadonlyMap<string, Raw>): PolicyLists {
  const lists: Record<string, Raw[]> = {};
  const owners = new Map<string, string>();
  for (const id of ids) {
    const key = LISTS[id.slice(0, id.indexOf(' '))];
    if (key === undefined) continue;
    const list = lists[key] ?? [];
    lists[key] = list;
    owners.set(`${key}[${list.length}]`, id);
    list.push(docs.get(id)!);
  }
  return { lists, owners };
}

/** The objects `issues` are about, each with its issues renamed to start with the object. */
export function blamePolicies(issues: readonly ConfigIssue[], owners: ReadonlyMap<string, string>): Map<string, ConfigIssue[]> {
  const out = new Map<string, ConfigIssue[]>();
  for (const issue of issues) {
    const m = /^(authorizationPolicies|requestAuthentications)\[\d+\]/.exec(issue.path);
    const id = m === null ? undefined : owners.get(m[0]);
    if (id === undefined) continue;
    out.set(id, [...(out.get(id) ?? []), { path: `${id}${issue.path.slice(m![0].length)}`, message: issue.message }]);
  }
  return out;
}
