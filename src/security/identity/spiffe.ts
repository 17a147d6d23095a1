/**
 * SPIFFE IDs, parsed by the rules of the SPIFFE-ID standard rather than by a
 * general URL parser: WHATWG URL would lower-case, percent-decode and resolve
 * `..`, turning an ID the standard rejects into a different, valid-looking one.
 * A peer's identity must compare byte for byte with what policy names, so the
 * parser refuses anything it would have to normalise.
 *
 * Istio's workload form is `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`;
 * AuthorizationPolicy principals are that ID without the scheme.
 */
import { MeshError } from '../../errors.js';

export const SPIFFE_SCHEME_PREFIX = 'spiffe://';
/** The standard's interoperability limit for the whole ID, in bytes (ASCII only). */
export const MAX_SPIFFE_ID_LENGTH = 2048;
/** RFC 3986's limit for a host, which the trust domain is. */
export const MAX_TRUST_DOMAIN_LENGTH = 255;

export interface SpiffeId {
  /** The ID exactly as parsed; a valid ID has only one spelling. */
  readonly uri: string;
  readonly trustDomain: string;
  /** `''` for a trust-domain ID, otherwise starts with `/`. */
  readonly path: string;
  readonly segments: readonly string[];
}

export type SpiffeIdCheck = { readonly ok: true; readonly id: SpiffeId } | { readonly ok: false; readonly reason: string };

export interface IstioIdentity {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

const TRUST_DOMAIN_CHAR = /^[a-z0-9._-]$/;
const SEGMENT_CHAR = /^[A-Za-z0-9._-]$/;

/** Why `name` is not a valid trust domain name, or undefined when it is. */
export function checkTrustDomain(name: string): string | undefined {
  if (name === '') return 'the trust domain is empty';
  if (name.length > MAX_TRUST_DOMAIN_LENGTH) {
    return `the trust domain is ${name.length} characters long; the limit is ${MAX_TRUST_DOMAIN_LENGTH}`;
  }
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (TRUST_DOMAIN_CHAR.test(c)) continue;
    if (c === ':') return `the trust domain has a port (":" at index ${i}); ports are not allowed`;
    if (c === '@') return `the trust domain has userinfo ("@" at index ${i}); userinfo is not allowed`;
    if (c >= 'A' && c <= 'Z') {
      return `the trust domain has an upper-case letter ${JSON.stringify(c)} at index ${i}; trust domains are lower case`;
    }
    if (c === '%') return `the trust domain has percent-encoding at index ${i}; only a-z 0-9 . - _ are allowed`;
    return `the trust domain has ${describeChar(c)} at index ${i}; only a-z 0-9 . - _ are allowed`;
  }
  return undefined;
}

/** Why `segment` is not a valid SPIFFE path segment, or undefined when it is. */
export function checkPathSegment(segment: string): string | undefined {
  if (segment === '') return 'the segment is empty';
  if (segment === '.' || segment === '..') return `the segment is ${JSON.stringify(segment)}; dot segments are not allowed`;
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (SEGMENT_CHAR.test(c)) continue;
    if (c === '%') return `percent-encoding at index ${i} is not allowed`;
    return `${describeChar(c)} at index ${i} is not allowed; only A-Z a-z 0-9 . - _ are`;
  }
  return undefined;
}

/** Validate without throwing; the reason names the part that is wrong. */
export function checkSpiffeId(text: string): SpiffeIdCheck {
  const fail = (reason: string): SpiffeIdCheck => ({ ok: false, reason });
  if (typeof text !== 'string') return fail('a SPIFFE ID must be a string');
  if (text === '') return fail('the ID is empty');
  if (text.length > MAX_SPIFFE_ID_LENGTH) {
    return fail(`the ID is ${text.length} characters long; the limit is ${MAX_SPIFFE_ID_LENGTH}`);
  }
  if (!text.startsWith(SPIFFE_SCHEME_PREFIX)) {
    if (text.slice(0, SPIFFE_SCHEME_PREFIX.length).toLowerCase() === SPIFFE_SCHEME_PREFIX) {
      return fail('the scheme must be written in lower case, "spiffe://"');
    }
    return fail('the ID must start with "spiffe://"');
  }
  const rest = text.slice(SPIFFE_SCHEME_PREFIX.length);
  const q = rest.indexOf('?');
  if (q >= 0) return fail(`a query ("?" at index ${SPIFFE_SCHEME_PREFIX.length + q}) is not allowed`);
  const h = rest.indexOf('#');
  if (h >= 0) return fail(`a fragment ("#" at index ${SPIFFE_SCHEME_PREFIX.length + h}) is not allowed`);

  const slash = rest.indexOf('/');
  const trustDomain = slash < 0 ? rest : rest.slice(0, slash);
  if (trustDomain === '') return fail('the trust domain is missing');
  const tdProblem = checkTrustDomain(trustDomain);
  if (tdProblem !== undefined) return fail(tdProblem);

  const path = slash < 0 ? '' : rest.slice(slash);
  const segments = path === '' ? [] : path.slice(1).split('/');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '') {
      return fail(i === segments.length - 1 ? 'the path ends with "/"' : `path segment ${i + 1} is empty ("//")`);
    }
    const problem = checkPathSegment(segment);
    if (problem !== undefined) return fail(`path segment ${i + 1} (${JSON.stringify(segment)}): ${problem}`);
  }
  return { ok: true, id: { uri: text, trustDomain, path, segments } };
}

/**
 * Parse a SPIFFE ID handed to the API, throwing `MESH_INVALID_ARGUMENT`.
 * `where` names the argument or field for the message. Callers holding
 * certificate material or config use `checkSpiffeId` and raise their own
 * error kind.
 */
export function parseSpiffeId(text: string, where = 'SPIFFE ID'): SpiffeId {
  const result = checkSpiffeId(text);
  if (result.ok) return result.id;
  throw new MeshError('MESH_INVALID_ARGUMENT', `invalid ${where} ${quoteForMessage(text)}: ${result.reason}`, {
    details: { where, reason: result.reason },
  });
}

/** `spiffe://<td>/ns/<ns>/sa/<sa>`, validating each part. */
export function formatIstioSpiffeId(identity: IstioIdentity): string {
  const problems: string[] = [];
  const td = checkTrustDomain(identity.trustDomain);
  if (td !== undefined) problems.push(`trust domain: ${td}`);
  const ns = checkPathSegment(identity.namespace);
  if (ns !== undefined) problems.push(`namespace ${JSON.stringify(identity.namespace)}: ${ns}`);
  const sa = checkPathSegment(identity.serviceAccount);
  if (sa !== undefined) problems.push(`service account ${JSON.stringify(identity.serviceAccount)}: ${sa}`);
  if (problems.length > 0) {
    throw new MeshError('MESH_INVALID_ARGUMENT', `cannot form a SPIFFE ID: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  return `${SPIFFE_SCHEME_PREFIX}${identity.trustDomain}/ns/${identity.namespace}/sa/${identity.serviceAccount}`;
}

/** The Istio parts of an ID in `/ns/<ns>/sa/<sa>` form, or undefined for any other path. */
export function istioIdentityOf(id: SpiffeId): IstioIdentity | undefined {
  const s = id.segments;
  if (s.length !== 4 || s[0] !== 'ns' || s[2] !== 'sa') return undefined;
  return { trustDomain: id.trustDomain, namespace: s[1]!, serviceAccount: s[3]! };
}

export function isInTrustDomain(id: SpiffeId, trustDomain: string): boolean {
  return id.trustDomain === trustDomain;
}

/** An untrusted string for an error message: quoted, escaped and cut short. */
export function quoteForMessage(text: unknown, max = 120): string {
  if (typeof text !== 'string') return String(text);
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}

function describeChar(c: string): string {
  if (c === ' ') return 'a space';
  const code = c.codePointAt(0)!;
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).padStart(4, '0').toUpperCase()}`;
  if (code > 0x7e) return `non-ASCII character ${JSON.stringify(c)}`;
  return JSON.stringify(c);
}
