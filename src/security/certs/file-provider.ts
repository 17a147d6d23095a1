/**
 * Certificates from a mounted directory, as SPIRE's helper, cert-manager and
 * Istio write them, watched for changes.
 *
 * Kubernetes updates a secret volume by writing a new timestamped directory
 * and atomically renaming a `..data` symlink onto it; the visible file names
 * are symlinks through `..data`, so their own inodes never change. Watching
 * the directory sees that rename, and every change (debounced, since one
 * update is several events) re-reads all three files through the symlinks.
 * A slow poll backs up fs.watch, which can miss events on some filesystems.
 *
 * Every update is validated as a whole before use; a bad one is logged once
 * and the previous material keeps serving.
 */
import { type FSWatcher, watch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type MeshLogger, stderrLogger } from '../../telemetry/logger.js';
import { CERTIFICATE_LAYOUTS, type CertificateFileNames, type CertificateLayoutName } from './layouts.js';
import { certificateError } from './pem.js';
import type { CertificateListener, CertificateProvider } from './provider.js';
import { ProviderState, RejectionLog } from './provider-state.js';
import { buildWorkloadCertificate, type WorkloadCertificate } from './workload-certificate.js';

export interface FileCertificateProviderOptions {
  readonly dir: string;
  /** A known layout, explicit file names, or `auto` (default): the first layout whose certificate file exists. */
  readonly layout?: CertificateLayoutName | 'auto' | CertificateFileNames;
  /** When set, material for another trust domain is rejected. */
  readonly trustDomain?: string;
  /** When set, material for any other SPIFFE ID is rejected (a swap to another workload's files). */
  readonly spiffeId?: string;
  /** Quiet period after the last change event before reloading. Default 100 ms. */
  readonly debounceMs?: number;
  /** Re-check interval in case a change event is missed; 0 disables. Default 60 s. */
  readonly pollIntervalMs?: number;
  readonly logger?: MeshLogger;
}

interface Snapshot {
  readonly certificate: string;
  readonly key: string;
  readonly bundle: string;
}

export class FileCertificateProvider implements CertificateProvider {
  readonly #dir: string;
  readonly #layout: CertificateLayoutName | 'auto' | CertificateFileNames;
  readonly #trustDomain: string | undefined;
  readonly #spiffeId: string | undefined;
  readonly #debounceMs: number;
  readonly #pollMs: number;
  readonly #logger: MeshLogger;
  readonly #state: ProviderState;
  readonly #rejections: RejectionLog;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #started = false;
  /** The last files seen, good or bad, so an unchanged rejected update is not re-validated and re-logged. */
  #lastSeen: Snapshot | undefined;
  #reloading: Promise<void> | undefined;
  #reloadAgain = false;

  constructor(options: FileCertificateProviderOptions) {
    this.#dir = options.dir;
    this.#layout = options.layout ?? 'auto';
    this.#trustDomain = options.trustDomain;
    this.#spiffeId = options.spiffeId;
    this.#debounceMs = options.debounceMs ?? 100;
    this.#pollMs = options.pollIntervalMs ?? 60_000;
    this.#logger = options.logger ?? stderrLogger();
    const name = `files in ${options.dir}`;
    this.#state = new ProviderState(name, this.#logger);
    this.#rejections = new RejectionLog(name, this.#logger);
  }

  /** Load the files and start watching. Idempotent; `ready()` calls it. */
  start(): this {
    if (this.#started || this.#state.closed) return this;
    this.#started = true;
    this.#watch();
    if (this.#pollMs > 0) {
      this.#poll = setInterval(() => {
        if (this.#watcher === undefined) this.#watch();
        void this.reload();
      }, this.#pollMs);
      this.#poll.unref();
    }
    void this.reload();
    return this;
  }

  current(): WorkloadCertificate | undefined {
    return this.#state.current();
  }

  ready(options: { signal?: AbortSignal } = {}): Promise<WorkloadCertificate> {
    this.start();
    return this.#state.ready(options.signal);
  }

  subscribe(listener: CertificateListener): () => void {
    return this.#state.subscribe(listener);
  }

  /** Re-read the files now. Resolves once they are applied or rejected; never rejects. */
  reload(): Promise<void> {
    if (this.#state.closed) return Promise.resolve();
    if (this.#reloading !== undefined) {
      this.#reloadAgain = true;
      return this.#reloading;
    }
    this.#reloading = (async () => {
      do {
        this.#reloadAgain = false;
        await this.#load();
      } while (this.#reloadAgain && !this.#state.closed);
    })().finally(() => {
      this.#reloading = undefined;
    });
    return this.#reloading;
  }

  async close(): Promise<void> {
    if (this.#state.closed) return;
    this.#state.close();
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
    if (this.#poll !== undefined) clearInterval(this.#poll);
    this.#watcher?.close();
    this.#watcher = undefined;
    await this.#reloading;
  }

  async #load(): Promise<void> {
    let snapshot: Snapshot;
    let names: CertificateFileNames;
    try {
      names = await this.#names();
      snapshot = await this.#read(names);
    } catch (err) {
      this.#rejections.report(err);
      return;
    }
    const last = this.#lastSeen;
    if (last && last.certificate === snapshot.certificate && last.key === snapshot.key && last.bundle === snapshot.bundle) {
      this.#warnIfExpired();
      return;
    }
    this.#lastSeen = snapshot;
    try {
      const cert = buildWorkloadCertificate(
        { chainPem: snapshot.certificate, keyPem: snapshot.key, trustBundlePem: snapshot.bundle },
        {
          where: `${join(this.#dir, names.certificate)} with ${names.key} and ${names.bundle}`,
          ...(this.#trustDomain !== undefined ? { trustDomain: this.#trustDomain } : {}),
          ...(this.#spiffeId !== undefined ? { spiffeId: this.#spiffeId } : {}),
        },
      );
      if (this.#state.closed) return;
      this.#rejections.clear();
      if (this.#state.publish(cert)) {
        this.#logger.info('loaded workload certificate', {
          dir: this.#dir,
          spiffeId: cert.spiffeId,
          notAfter: cert.notAfter.toISOString(),
        });
      }
    } catch (err) {
      this.#rejections.report(err);
    }
  }

  async #names(): Promise<CertificateFileNames> {
    if (typeof this.#layout === 'object') return this.#layout;
    if (this.#layout !== 'auto') return CERTIFICATE_LAYOUTS[this.#layout];
    for (const names of Object.values(CERTIFICATE_LAYOUTS)) {
      if (await isFile(join(this.#dir, names.certificate))) return names;
    }
    const looked = Object.values(CERTIFICATE_LAYOUTS).map((n) => n.certificate);
    throw certificateError(`no certificate files in ${this.#dir} (looked for ${looked.join(', ')})`, this.#dir);
  }

  async #read(names: CertificateFileNames): Promise<Snapshot> {
    const read = async (name: string) => {
      const path = join(this.#dir, name);
      try {
        return await readFile(path, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        throw certificateError(`cannot read ${path} (${code})`, path);
      }
    };
    const [certificate, key, bundle] = await Promise.all([read(names.certificate), read(names.key), read(names.bundle)]);
    return { certificate, key, bundle };
  }

  #watch(): void {
    try {
      this.#watcher = watch(this.#dir, { persistent: false }, () => this.#changed());
    } catch (err) {
      // The directory may not be mounted yet; the poll retries the watch.
      this.#watcher = undefined;
      this.#rejections.report(certificateError(`cannot watch ${this.#dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, this.#dir));
      return;
    }
    this.#watcher.on('error', () => {
      this.#watcher?.close();
      this.#watcher = undefined;
      this.#changed();
    });
  }

  #changed(): void {
    if (this.#state.closed) return;
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      void this.reload();
    }, this.#debounceMs);
    this.#debounce.unref();
  }

  #warnIfExpired(): void {
    const cert = this.#state.current();
    if (cert !== undefined && cert.notAfter.getTime() <= Date.now()) {
      this.#rejections.report(
        certificateError(`the certificate from ${this.#dir} expired at ${cert.notAfter.toISOString()} and no replacement has appeared`, this.#dir),
        'the served workload certificate has expired',
      );
    }
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

