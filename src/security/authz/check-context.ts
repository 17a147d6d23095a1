/**
 * Per-check scratch state: positions and parsed values derived from the
 * request, each worked out at most once per check and only when a clause
 * asks (the namespace inside the principal, the path before its query, the
 * host before its port, the peer address as numbers).
 *
 * One context belongs to one Authorizer and is reset per check, so a check
 * allocates nothing here. check() is synchronous; a re-entrant call (a
 * header() callback that checks again) gets its own context.
 */
import type { AuthzRequest } from './attributes.js';
import { type IpFamily, NOT_IP, parseIp } from './ip.js';

const UNKNOWN = -2;
const NONE = -1;
const SPIFFE = 'spiffe://';

export class CheckContext {
  req: AuthzRequest = undefined as never;
  busy = false;
  /** Candidate marks for the policy index: `marks[i] === epoch` marks policy i of the list being walked. */
  readonly marks: Uint32Array;
  /** Gated candidates found by the index walk, unsorted. */
  readonly found: Int32Array;
  /** The candidates to evaluate, ascending. */
  readonly order: Int32Array;
  #epoch = 0;
  #principalStart = 0;
  #nsStart = UNKNOWN;
  #nsEnd = 0;
  #saStart = UNKNOWN;
  #saEnd = 0;
  #pathEnd = UNKNOWN;
  #host: string | undefined;
  #hostEnd = 0;
  #srcFamily = UNKNOWN;
  #remoteFamily = UNKNOWN;
  #destFamily = UNKNOWN;
  readonly src = new Uint32Array(4);
  readonly remote = new Uint32Array(4);
  readonly dest = new Uint32Array(4);

  /** `capacity`: the longest policy list it will walk; `found`: room for gated candidates. */
  constructor(capacity: number, found: number) {
    this.marks = new Uint32Array(capacity);
    this.order = new Int32Array(capacity);
    this.found = new Int32Array(found);
  }

  /**
   * A fresh mark value, so earlier marks need no clearing. The walk skips a
   * policy already marked with the current value (reached twice), so a stale
   * mark must never equal it: when the counter wraps, the marks are cleared.
   */
  nextEpoch(): number {
    if (this.#epoch === 0xffffffff) {
      this.marks.fill(0);
      this.#epoch = 0;
    }
    return ++this.#epoch;
  }

  /** For tests: the next nextEpoch() wraps. */
  wrapEpochSoon(): void {
    this.#epoch = 0xffffffff;
  }

  reset(req: AuthzRequest): void {
    this.req = req;
    this.#principalStart = UNKNOWN;
    this.#nsStart = UNKNOWN;
    this.#saStart = UNKNOWN;
    this.#pathEnd = UNKNOWN;
    this.#host = undefined;
    this.#srcFamily = UNKNOWN;
    this.#remoteFamily = UNKNOWN;
    this.#destFamily = UNKNOWN;
  }

  /** Where the principal starts, past a tolerated `spiffe://`. Only with a principal. */
  principalStart(principal: string): number {
    if (this.#principalStart === UNKNOWN) this.#principalStart = principal.startsWith(SPIFFE) ? SPIFFE.length : 0;
    return this.#principalStart;
  }

  /** Finds `/ns/<namespace>/` in the principal; false without one. */
  locateNamespace(): boolean {
    if (this.#nsStart === UNKNOWN) {
      const p = this.req.principal;
      this.#nsStart = NONE;
      if (p !== undefined) {
        const at = p.indexOf('/ns/', this.principalStart(p));
        const end = at < 0 ? -1 : p.indexOf('/', at + 4);
        if (end > at + 4) {
          this.#nsStart = at + 4;
          this.#nsEnd = end;
        }
      }
    }
    return this.#nsStart >= 0;
  }

  get nsStart(): number {
    return this.#nsStart;
  }

  get nsEnd(): number {
    return this.#nsEnd;
  }

  /** Finds `/sa/<account>` after the namespace, ending at `/` or the end; false without one. */
  locateAccount(): boolean {
    if (this.#saStart === UNKNOWN) {
      this.#saStart = NONE;
      if (this.locateNamespace()) {
        const p = this.req.principal!;
        const at = p.indexOf('/sa/', this.#nsEnd);
        if (at >= 0) {
          const slash = p.indexOf('/', at + 4);
          const end = slash < 0 ? p.length : slash;
          if (end > at + 4) {
            this.#saStart = at + 4;
            this.#saEnd = end;
          }
        }
      }
    }
    return this.#saStart >= 0;
  }

  get saStart(): number {
    return this.#saStart;
  }

  get saEnd(): number {
    return this.#saEnd;
  }

  /** The end of the path proper: before `?` or `#`. */
  pathEnd(): number {
    if (this.#pathEnd === UNKNOWN) {
      const path = this.req.path;
      let end = path.indexOf('?');
      const hash = path.indexOf('#');
      if (end < 0 || (hash >= 0 && hash < end)) end = hash;
      this.#pathEnd = end < 0 ? path.length : end;
    }
    return this.#pathEnd;
  }

  /** The host, lower-cased (a copy only when it has upper case). */
  host(): string {
    if (this.#host === undefined) {
      const raw = this.req.host;
      let lower = raw;
      for (let i = 0; i < raw.length; i++) {
        const c = raw.charCodeAt(i);
        if (c >= 65 && c <= 90) {
          lower = raw.toLowerCase();
          break;
        }
      }
      this.#host = lower;
      this.#hostEnd = hostEnd(lower);
    }
    return this.#host;
  }

  /** The end of the host before a `:port`; host() first. */
  get hostEnd(): number {
    return this.#hostEnd;
  }

  sourceFamily(): IpFamily {
    if (this.#srcFamily === UNKNOWN) this.#srcFamily = parseIp(this.req.sourceIp, this.src);
    return this.#srcFamily as IpFamily;
  }

  remoteFamily(): IpFamily {
    if (this.#remoteFamily === UNKNOWN) this.#remoteFamily = parseIp(this.req.remoteIp ?? this.req.sourceIp, this.remote);
    return this.#remoteFamily as IpFamily;
  }

  destFamily(): IpFamily {
    if (this.#destFamily === UNKNOWN) {
      const ip = this.req.destinationIp;
      this.#destFamily = ip === undefined ? NOT_IP : parseIp(ip, this.dest);
    }
    return this.#destFamily as IpFamily;
  }
}

/** `host:port` → the index of ':'; `[v6]:port` → after ']'; otherwise the length. */
function hostEnd(host: string): number {
  const colon = host.lastIndexOf(':');
  if (colon < 0) return host.length;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']');
    return close >= 0 && close + 1 === colon ? colon : host.length;
  }
  return host.indexOf(':') === colon ? colon : host.length;
}
