/**
 * The Gateway API's ReferenceGrant: a namespace's consent to routes of
 * another namespace sending to its Services. A route's backendRef (or
 * mirror) in another namespace is allowed only when a grant in the
 * backend's namespace lets that route's kind from that namespace refer to
 * Services there (all of them, or the one it names), as the spec says.
 */
import { isMap, type Raw, type ResourceReader } from './reader.js';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

interface Grant {
  readonly namespace: string;
  readonly from: readonly { readonly kind: string; readonly namespace: string }[];
  /** Service names granted; undefined for every Service of the namespace. */
  readonly to: readonly (string | undefined)[];
}

export class ReferenceGrants {
  readonly #grants: Grant[] = [];

  /** Reads one ReferenceGrant, reporting what it cannot take to `r`. */
  add(doc: Raw, r: ResourceReader, defaultNamespace: string): void {
    const meta = isMap(doc.metadata) ? doc.metadata : {};
    const namespace = typeof meta.namespace === 'string' ? meta.namespace : defaultNamespace;
    const s = r.child('spec');
    const spec = s.map(doc.spec, true) ?? {};
    s.only(spec, ['from', 'to']);
    const from = (s.list(spec.from, true) ?? []).flatMap((v, i) => {
      const fr = s.child('from').child(i);
      const f = fr.map(v, true) ?? {};
      fr.only(f, ['group', 'kind', 'namespace']);
      const kind = fr.child('kind').string(f.kind, true);
      const ns = fr.child('namespace').string(f.namespace, true);
      // Other groups (a Gateway's, say) grant nothing proxyless routes with.
      return kind === undefined || ns === undefined || f.group !== GATEWAY_GROUP ? [] : [{ kind, namespace: ns }];
    });
    const to = (s.list(spec.to, true) ?? []).flatMap((v, i) => {
      const tr = s.child('to').child(i);
      const t = tr.map(v, true) ?? {};
      tr.only(t, ['group', 'kind', 'name']);
      const core = t.group === '' || t.group === 'core' || t.group === undefined;
      return core && t.kind === 'Service' ? [typeof t.name === 'string' ? t.name : undefined] : [];
    });
    this.#grants.push({ namespace, from, to });
  }

  /** Whether a route of `kind` in `fromNamespace` may send to Service `service` of `toNamespace`. */
  allows(kind: string, fromNamespace: string, toNamespace: string, service: string): boolean {
    if (fromNamespace === toNamespace) return true;
    return this.#grants.some(
      (g) =>
        g.namespace === toNamespace &&
        g.from.some((f) => f.kind === kind && f.namespace === fromNamespace) &&
        g.to.some((name) => name === undefined || name === service),
    );
  }
}
