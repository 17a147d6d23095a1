/**
 * One watch stream, as the API server writes it: HTTP 200, chunked JSON
 * events one per line. From a resourceVersion it replays the history after
 * it; from none (or "0") it first sends the current objects as ADDED. A
 * resourceVersion older than the compaction point gets an ERROR event with
 * a 410 Expired Status, then the stream ends (the real server's behaviour).
 */
import type { ServerResponse } from 'node:http';
import type { ResourceType } from './resources.js';
import { matchesFields, matchesLabels, parseSelector } from './selectors.js';
import { statusBody } from './status.js';
import { type KubeObject, type ObjectStore, qualified, type StoreEvent } from './store.js';

export interface WatchParams {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  readonly resourceVersion: string | null;
  readonly labelSelector: string | null;
  readonly fieldSelector: string | null;
  readonly bookmarks: boolean;
  readonly timeoutSeconds: number | undefined;
}

export class WatchStream {
  readonly #res: ServerResponse;
  readonly #params: WatchParams;
  readonly #labels;
  readonly #fields;
  #unsubscribe: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(res: ServerResponse, params: WatchParams) {
    this.#res = res;
    this.#params = params;
    this.#labels = parseSelector(params.labelSelector);
    this.#fields = parseSelector(params.fieldSelector);
  }

  get bookmarks(): boolean {
    return this.#params.bookmarks;
  }

  get resource(): string {
    return this.#params.type.resource;
  }

  start(store: ObjectStore, onEnd: () => void): void {
    const res = this.#res;
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // The real server answers at once, before any event: clients learn the watch is up.
    res.flushHeaders();
    res.on('close', () => {
      this.#finish();
      onEnd();
    });
    const rvText = this.#params.resourceVersion;
    if (rvText === null || rvText === '' || rvText === '0') {
      for (const obj of store.list(this.#params.type, this.#params.namespace)) this.#send('ADDED', obj);
    } else {
      const rv = Number(rvText);
      const events = store.since(rv, qualified(this.#params.type));
      if (events === 'gone') {
        this.#write({
          type: 'ERROR',
          object: statusBody(410, 'Expired', `too old resource version: ${rv} (${store.compactedRevision})`),
        });
        this.end();
        return;
      }
      for (const e of events) this.#deliver(e);
    }
    this.#unsubscribe = store.subscribe((e) => {
      // By group too: two groups may have a resource of one name (HTTPRoute: the Gateway API's and Linkerd's).
      if (e.resource === qualified(this.#params.type)) this.#deliver(e);
    });
    if (this.#params.timeoutSeconds !== undefined) {
      this.#timer = setTimeout(() => this.end(), this.#params.timeoutSeconds * 1000);
      this.#timer.unref();
    }
  }

  bookmark(rv: number): void {
    if (!this.#params.bookmarks || this.#closed) return;
    const t = this.#params.type;
    this.#write({
      type: 'BOOKMARK',
      object: {
        kind: t.kind,
        apiVersion: t.group === '' ? t.version : `${t.group}/${t.version}`,
        metadata: { resourceVersion: String(rv), annotations: { 'k8s.io/initial-events-end': 'true' } },
      },
    });
  }

  /** End the stream cleanly (the server's watch timeout). */
  end(): void {
    this.#finish();
    this.#res.end();
  }

  /** Drop the connection abruptly. */
  drop(): void {
    this.#finish();
    this.#res.socket?.destroy();
  }

  #deliver(e: StoreEvent): void {
    const ns = this.#params.namespace;
    if (ns !== undefined && this.#params.type.namespaced && e.object.metadata.namespace !== ns) return;
    this.#send(e.type, e.object);
  }

  #send(type: string, obj: KubeObject): void {
    if (!matchesLabels(obj, this.#labels) || !matchesFields(obj, this.#fields)) return;
    this.#write({ type, object: obj });
  }

  #write(event: unknown): void {
    if (this.#closed) return;
    this.#res.write(`${JSON.stringify(event)}\n`);
  }

  #finish(): void {
    this.#closed = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }
}
