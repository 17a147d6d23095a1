/**
 * A fake Kubernetes API server on a real HTTPS (or HTTP) socket, port 0.
 * It is the one fake the project allows (no cluster can run here), and it
 * behaves like the real one for what the mesh and kubectl use: discovery
 * documents, get/list/create/replace/patch/delete, watch with
 * resourceVersion semantics and bookmarks, 410 Gone after compaction,
 * bearer-token authentication and RBAC denials as 403 Status objects, and
 * the status subresource (subresources.ts) with resourceVersion
 * preconditions on every update and patch.
 * hold() makes it slow on chosen paths, as a loaded API server is.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mergePatch } from './merge-patch.js';
import { openApiDocument } from './openapi.js';
import { discoveryDocument, findType, type ResourceType } from './resources.js';
import { matchesFields, matchesLabels, parseSelector } from './selectors.js';
import { sendJson, sendStatus } from './status.js';
import { type KubeObject, ObjectStore, qualified, StoreError } from './store.js';
import { created, hasSubresource, rbacResource, SUBRESOURCE_VERBS, updated } from './subresources.js';
import { serverCertificate } from './tls.js';
import { WatchStream } from './watch.js';

export const ADMIN_TOKEN = 'admin-token';
export const FORBIDDEN_TOKEN = 'forbidden-token';

/** What a bearer token may do: everything, nothing, or only the listed resources (a subresource as `httproutes/status`, as RBAC names it). */
export type TokenRole = 'admin' | 'forbidden' | { readonly allow: readonly string[] };

export interface FakeApiServerOptions {
  /** Serve HTTPS with a throwaway CA (default true). */
  tls?: boolean;
  /** Extra tokens and their roles; ADMIN_TOKEN and FORBIDDEN_TOKEN always exist. */
  tokens?: Readonly<Record<string, TokenRole>>;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly token: string | undefined;
}

export class FakeKubeApiServer {
  readonly store = new ObjectStore();
  readonly requests: RecordedRequest[] = [];
  readonly tokens = new Map<string, TokenRole>();
  /** When set, every resource request (not discovery) answers with this HTTP status. */
  outage: number | undefined;
  readonly #watches = new Set<WatchStream>();
  readonly #holds = new Set<{ readonly match: (path: string) => boolean; readonly released: Promise<void>; readonly release: () => void }>();
  readonly #server: Server;
  readonly ca: string | undefined;
  #url = '';

  constructor(options: FakeApiServerOptions = {}) {
    this.tokens.set(ADMIN_TOKEN, 'admin');
    this.tokens.set(FORBIDDEN_TOKEN, 'forbidden');
    for (const [t, role] of Object.entries(options.tokens ?? {})) this.tokens.set(t, role);
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.#handle(req, res).catch((err: Error) => {
        if (!res.headersSent) sendStatus(res, 500, 'InternalError', err.message);
        else res.destroy();
      });
    };
    if (options.tls === false) {
      this.#server = createHttpServer(handler);
    } else {
      const cert = serverCertificate();
      this.ca = cert.cert;
      this.#server = createHttpsServer({ key: cert.key, cert: cert.cert }, handler);
    }
  }

  static async start(options?: FakeApiServerOptions): Promise<FakeKubeApiServer> {
    const server = new FakeKubeApiServer(options);
    await new Promise<void>((resolve) => server.#server.listen(0, '127.0.0.1', resolve));
    const { port } = server.#server.address() as AddressInfo;
    server.#url = `${options?.tls === false ? 'http' : 'https'}://127.0.0.1:${port}`;
    return server;
  }

  get url(): string {
    return this.#url;
  }

  /** Open watch streams (for tests that wait for a client to be watching). */
  get watchCount(): number {
    return this.#watches.size;
  }

  /** Send a BOOKMARK at the current resourceVersion to every watch that asked for bookmarks. */
  bookmark(): void {
    for (const w of this.#watches) w.bookmark(this.store.resourceVersion);
  }

  /** Cut every watch connection, as a load balancer or an API server restart would. */
  dropWatches(): void {
    for (const w of [...this.#watches]) w.drop();
  }

  /** End every watch cleanly, as the server's watch timeout does. */
  endWatches(): void {
    for (const w of [...this.#watches]) w.end();
  }

  /** Requests whose path matches wait (after being recorded) until the returned function is called. */
  hold(match: (path: string) => boolean): () => void {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const entry = { match, released, release };
    this.#holds.add(entry);
    return () => {
      this.#holds.delete(entry);
      release();
    };
  }

  async close(): Promise<void> {
    for (const h of this.#holds) h.release();
    this.#holds.clear();
    this.dropWatches();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, token });
    for (const h of [...this.#holds]) if (h.match(url.pathname)) await h.released;
    const role = token === undefined ? undefined : this.tokens.get(token);
    if (role === undefined) {
      sendStatus(res, 401, 'Unauthorized', 'Unauthorized');
      return;
    }
    const path = url.pathname.replace(/\/$/, '');
    const doc = discoveryDocument(path) ?? openApiDocument(path);
    if (doc !== undefined) {
      sendJson(res, 200, doc);
      return;
    }
    const route = parseResourcePath(path);
    if (route === undefined) {
      sendStatus(res, 404, 'NotFound', 'the server could not find the requested resource');
      return;
    }
    const { type, namespace, name, subresource } = route;
    const verb = verbOf(req.method ?? 'GET', name, url.searchParams);
    if (!allowed(role, type, subresource)) {
      const where = namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`;
      sendStatus(
        res,
        403,
        'Forbidden',
        `${qualified(type)}${name ? ` "${name}"` : ''} is forbidden: User "system:serviceaccount:${namespace ?? 'default'}:${token}" cannot ${verb} resource "${rbacResource(type, subresource)}" in API group "${type.group}" ${where}`,
        statusDetails(type, name),
      );
      return;
    }
    // As on the real server, authorization comes first: only then is a subresource the type lacks a 404.
    if (subresource !== undefined && !hasSubresource(type, subresource)) {
      sendStatus(res, 404, 'NotFound', 'the server could not find the requested resource');
      return;
    }
    if (this.outage !== undefined) {
      sendStatus(res, this.outage, 'ServiceUnavailable', 'the fake API server is in a simulated outage');
      return;
    }
    const dryRun = url.searchParams.get('dryRun') === 'All';
    try {
      await this.#serve(req, res, verb, route, url.searchParams, dryRun);
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      sendStatus(res, err.status, err.reason, err.message, statusDetails(type, name));
    }
  }

  async #serve(
    req: IncomingMessage,
    res: ServerResponse,
    verb: string,
    { type, namespace, name, subresource }: ResourceRoute,
    query: URLSearchParams,
    dryRun: boolean,
  ): Promise<void> {
    const store = this.store;
    switch (subresource !== undefined && !SUBRESOURCE_VERBS.includes(verb) ? 'unsupported' : verb) {
      case 'watch': {
        const timeout = query.get('timeoutSeconds');
        const stream = new WatchStream(res, {
          type,
          namespace,
          resourceVersion: query.get('resourceVersion'),
          labelSelector: query.get('labelSelector'),
          fieldSelector: name !== undefined ? `metadata.name=${name}` : query.get('fieldSelector'),
          bookmarks: query.get('allowWatchBookmarks') === 'true',
          timeoutSeconds: timeout === null ? undefined : Number(timeout),
        });
        this.#watches.add(stream);
        stream.start(store, () => this.#watches.delete(stream));
        return;
      }
      case 'list': {
        const labels = parseSelector(query.get('labelSelector'));
        const fields = parseSelector(query.get('fieldSelector'));
        const items = store.list(type, namespace).filter((o) => matchesLabels(o, labels) && matchesFields(o, fields));
        sendJson(res, 200, {
          kind: `${type.kind}List`,
          apiVersion: type.group === '' ? type.version : `${type.group}/${type.version}`,
          metadata: { resourceVersion: String(store.resourceVersion) },
          items,
        });
        return;
      }
      case 'get':
        // The status subresource's GET answers the whole object, as the real one does.
        sendJson(res, 200, store.get(type, namespace, name!));
        return;
      case 'create':
        sendJson(res, 201, store.create(type, namespace, created(type, (await readJson(req)) as KubeObject), dryRun));
        return;
      case 'update':
      case 'patch': {
        const contentType = req.headers['content-type'] ?? '';
        if (verb === 'patch' && !/merge-patch\+json/.test(contentType)) {
          sendStatus(res, 415, 'UnsupportedMediaType', `the fake API server does not support patch type ${contentType}`);
          return;
        }
        const body = await readJson(req);
        // Nothing awaits from here on, so no other write lands between reading the stored object and replacing it.
        const current = store.get(type, namespace, name!);
        // A patch keeps the stored resourceVersion unless it names one: then that one is a precondition (409 if stale).
        const proposed = (verb === 'patch' ? mergePatch(current, body) : body) as KubeObject;
        sendJson(res, 200, store.replace(type, namespace, name!, updated(type, subresource, current, proposed), dryRun));
        return;
      }
      case 'delete': {
        const gone = store.delete(type, namespace, name!, dryRun);
        sendJson(res, 200, gone);
        return;
      }
      default:
        sendStatus(res, 405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    }
  }
}

interface ResourceRoute {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  /** `status` in `.../NAME/status`; whether the type has it is checked after authorization. */
  readonly subresource: string | undefined;
}

/** `/api/v1[/namespaces/NS]/RESOURCE[/NAME[/SUBRESOURCE]]` and `/apis/GROUP/VERSION[/namespaces/NS]/RESOURCE[/NAME[/SUBRESOURCE]]`. */
function parseResourcePath(path: string): ResourceRoute | undefined {
  const parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const type = findType(group, version, rest[0]!);
  if (type === undefined || rest.length > 3) {
    // `/api/v1/namespaces/NAME` (and its `/status`) is the cluster-scoped Namespace itself.
    if (namespace !== undefined && (rest.length === 0 || (rest.length === 1 && rest[0] === 'status'))) {
      return { type: findType('', 'v1', 'namespaces')!, namespace: undefined, name: namespace, subresource: rest[0] };
    }
    return undefined;
  }
  return { type, namespace: type.namespaced ? namespace : undefined, name: rest[1], subresource: rest[2] };
}

/** A Status's `details`, as the real server writes them: the core group's '' is left out (omitempty). */
function statusDetails(type: ResourceType, name: string | undefined): { name?: string; group?: string; kind: string } {
  return { ...(name ? { name } : {}), ...(type.group !== '' ? { group: type.group } : {}), kind: type.resource };
}

function verbOf(method: string, name: string | undefined, query: URLSearchParams): string {
  const watch = query.get('watch');
  if (method === 'GET') return watch === 'true' || watch === '1' ? 'watch' : name === undefined ? 'list' : 'get';
  if (method === 'POST' && name === undefined) return 'create';
  if (method === 'PUT' && name !== undefined) return 'update';
  if (method === 'PATCH' && name !== undefined) return 'patch';
  if (method === 'DELETE' && name !== undefined) return 'delete';
  return 'unsupported';
}

/** RBAC's match: a subresource needs a rule of its own (`httproutes/status`, or a wildcard); `httproutes` alone does not grant it. */
function allowed(role: TokenRole, type: ResourceType, subresource: string | undefined): boolean {
  if (role === 'admin') return true;
  if (role === 'forbidden') return false;
  const wanted = rbacResource(type, subresource);
  return role.allow.some((r) => r === '*' || r === wanted || (subresource !== undefined && r === `*/${subresource}`));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new StoreError(400, 'BadRequest', 'the request body is not JSON');
  }
}
