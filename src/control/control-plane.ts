/**
 * `proxyless control-plane`: one grpc-js server carrying the xDS services
 * and (when given a CA) the certificate-signing service, fed from a config
 * file that is watched for changes.
 *
 * A good edit becomes a new versioned snapshot pushed to every client; a
 * bad one is logged with every problem and its path, recorded in the status,
 * and the last good snapshot keeps being served.
 */
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from '../config/config-error.js';
import { type ConfigFileWatch, readConfigFile, watchConfigFile } from '../config/file-source.js';
import { checkRouteTargets } from '../config/route-targets.js';
import { validateConfig } from '../config/validate.js';
import { MeshError } from '../errors.js';
import { monotonicNow } from '../net/monotonic-clock.js';
import type { CertificateAuthority } from '../security/certs/ca.js';
import { type MeshLogger, stderrLogger } from '../telemetry/logger.js';
import { type CaAuthenticator, registerCaService } from './ca-service.js';
import type { ConfigInput } from './config-input.js';
import { buildSnapshot, type Snapshot } from './snapshot.js';
import { XdsServer } from './xds-server.js';
import type { ClientStatus } from './xds-stream.js';

/** How long close() lets connections drain before cutting them. */
const CLOSE_GRACE_MS = 5000;

export interface ControlPlaneOptions {
  /** The mesh config file (our YAML and/or Istio resources); one of this and `input`. */
  readonly configFile?: string;
  /** Another config source, e.g. the cluster (kubernetes/kubernetes-input.ts). */
  readonly input?: ConfigInput;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly logger?: MeshLogger;
  readonly inlineRoutes?: boolean;
  /** Sign workload CSRs with this CA (the CA service is off without one). */
  readonly ca?: { readonly authority: CertificateAuthority; readonly authenticate: CaAuthenticator };
  /** Milliseconds to coalesce file events over. */
  readonly debounceMs?: number;
}

export interface RejectedEdit {
  readonly at: string;
  readonly message: string;
}

export interface ControlPlaneStatus {
  readonly identifier: string;
  readonly configFile: string;
  readonly version: string;
  readonly versionCreatedAt: string;
  readonly typeVersions: Record<string, string>;
  readonly resources: Record<string, string[]>;
  /** Settings the config holds that xDS cannot carry. */
  readonly notCarried: readonly string[];
  /** Per inbound listener served (`name (namespace, labels)`): policy the RBAC/JWT filters or gRPC servers cannot carry as written. */
  readonly inboundWarnings: Record<string, readonly string[]>;
  readonly lastRejectedConfig: RejectedEdit | undefined;
  readonly clients: ClientStatus[];
}

export class ControlPlane {
  readonly #options: ControlPlaneOptions;
  readonly #logger: MeshLogger;
  readonly #server = new grpc.Server();
  readonly #xds: XdsServer;
  readonly #identifier: string;
  #watch: ConfigFileWatch | undefined;
  #version = 1;
  #rejected: RejectedEdit | undefined;
  #port = 0;

  /** Loads and validates the file; throws ConfigError when it is bad (a control plane never starts on bad config). */
  constructor(options: ControlPlaneOptions) {
    this.#options = options;
    this.#logger = options.logger ?? stderrLogger();
    this.#identifier = `proxyless-control-plane/${process.pid}`;
    if ((options.configFile === undefined) === (options.input === undefined)) {
      throw new MeshError('MESH_INVALID_ARGUMENT', 'the control plane needs exactly one of configFile and input');
    }
    // An input is read in start(); until then (before any client can connect) the snapshot is empty.
    if (options.input !== undefined) this.#version = 0;
    const raw = options.configFile !== undefined ? readConfigFile(options.configFile) : {};
    const snapshot = this.#translate(raw, this.#version, undefined);
    this.#xds = new XdsServer({ logger: this.#logger, identifier: this.#identifier, initial: snapshot });
    this.#xds.register(this.#server);
    if (options.ca !== undefined) registerCaService(this.#server, options.ca.authority, options.ca.authenticate, this.#logger);
  }

  /** Read the input (when one is given), bind, then watch the config file. Resolves with the bound port. */
  async start(): Promise<number> {
    if (this.#options.input !== undefined) {
      const started = monotonicNow();
      try {
        await this.#options.input.start({
          // A rejected object stays reported after the rest is served: the input serves around it.
          offer: (raw) => this.#serve(this.#translate(raw, this.#version + 1, this.#xds.snapshot), false),
          rejected: (err) => this.#reject(err),
        });
      } catch (err) {
        this.#options.input.close();
        throw err;
      }
      this.#logger.info('config read', { source: this.#options.input.description, version: this.snapshot.version, ms: Math.round(monotonicNow() - started) });
    }
    const address = `${this.#options.host ?? '0.0.0.0'}:${this.#options.port ?? 15010}`;
    this.#port = await new Promise<number>((resolve, reject) => {
      this.#server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(new MeshError('MESH_INVALID_ARGUMENT', `cannot listen on ${address}: ${err.message}`, { cause: err })) : resolve(port),
      );
    });
    if (this.#options.configFile !== undefined) {
      this.#watch = watchConfigFile(
        this.#options.configFile,
        (raw) => this.#apply(raw),
        (err) => this.#reject(err),
        this.#options.debounceMs,
      );
    }
    this.#logger.info('control plane serving', { address, port: this.#port, version: this.snapshot.version });
    this.#warnNotCarried(this.snapshot);
    return this.#port;
  }

  get port(): number {
    return this.#port;
  }

  get snapshot(): Snapshot {
    return this.#xds.snapshot;
  }

  status(): ControlPlaneStatus {
    const s = this.#xds.snapshot;
    return {
      identifier: this.#identifier,
      configFile: this.#options.configFile ?? this.#source(),
      version: s.version,
      versionCreatedAt: s.createdAt.toISOString(),
      typeVersions: Object.fromEntries(s.typeVersions),
      resources: Object.fromEntries([...s.resources].map(([type, map]) => [type, [...map.keys()]])),
      notCarried: s.notCarried,
      inboundWarnings: Object.fromEntries(s.inbound.warnings),
      lastRejectedConfig: this.#rejected,
      clients: this.#xds.clients(),
    };
  }

  /**
   * Stop accepting, end the xDS streams, let in-flight calls (certificate
   * requests) finish. xDS clients keep reconnecting and may hold their
   * connections open, so after CLOSE_GRACE_MS the rest is cut.
   */
  async close(): Promise<void> {
    this.#watch?.close();
    this.#options.input?.close();
    this.#xds.closeStreams();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, CLOSE_GRACE_MS);
      timer.unref();
      this.#server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Stop at once. */
  destroy(): void {
    this.#watch?.close();
    this.#options.input?.close();
    this.#xds.closeStreams();
    this.#server.forceShutdown();
  }

  /** Validate, check and translate `raw` into a snapshot; throws ConfigError naming every problem. */
  #translate(raw: unknown, version: number, previous: Snapshot | undefined): Snapshot {
    const source = this.#source();
    const config = validateConfig(raw, source);
    const issues = checkRouteTargets(config);
    if (issues.length > 0) throw new ConfigError(source, issues);
    return buildSnapshot(config, String(version), previous, {
      inlineRoutes: this.#options.inlineRoutes === true,
      oneRegion: this.#options.input?.oneRegion === true,
    });
  }

  #apply(raw: unknown): void {
    try {
      this.#serve(this.#translate(raw, this.#version + 1, this.#xds.snapshot));
    } catch (err) {
      this.#reject(err);
    }
  }

  #serve(snapshot: Snapshot, clearRejected = true): void {
    this.#version += 1;
    if (clearRejected) this.#rejected = undefined;
    this.#xds.publish(snapshot);
    this.#logger.info('config change served', { version: snapshot.version, clients: this.#xds.clients().length });
    this.#warnNotCarried(snapshot);
  }

  #source(): string {
    return this.#options.input?.description ?? `file ${this.#options.configFile}`;
  }

  #warnNotCarried(snapshot: Snapshot): void {
    if (snapshot.notCarried.length === 0) return;
    this.#logger.warn('some settings have no xDS field and are not sent to clients (they apply to processes reading the file)', {
      version: snapshot.version,
      settings: snapshot.notCarried,
    });
  }

  #reject(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.#rejected = { at: new Date().toISOString(), message };
    this.#logger.error('config change rejected; still serving the last good config', {
      version: this.#xds.snapshot.version,
      error: message,
    });
  }
}
