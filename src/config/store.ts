/**
 * ConfigStore: the one place config changes. Each source owns a layer; an
 * update to a layer is merged with the others by precedence, validated whole,
 * and only then swapped in as a new immutable snapshot. A rejected update
 * leaves both the layer and the snapshot as they were (last known good).
 */
import { ConfigError, type ConfigIssue } from './config-error.js';
import { mergeLayers } from './merge.js';
import type { MeshConfig } from './schema.js';
import { validateConfig } from './validate.js';

/**
 * Lowest precedence first. `kubernetes` holds what the mesh learned from the
 * platform it runs on (its Node's zone): any source that says otherwise wins.
 */
export const CONFIG_LAYERS = ['kubernetes', 'file', 'xds', 'env', 'options'] as const;
export type ConfigLayer = (typeof CONFIG_LAYERS)[number];

export interface ConfigSourceInfo {
  readonly layer: ConfigLayer;
  /** Where it came from, e.g. `file /etc/mesh/mesh.yaml`. */
  readonly source: string;
  /** Count of accepted updates from this layer. */
  readonly version: number;
  readonly updatedAt: Date;
}

export interface ConfigSnapshot {
  /** Increases by one with every accepted update. */
  readonly version: number;
  readonly config: MeshConfig;
  readonly sources: readonly ConfigSourceInfo[];
  readonly appliedAt: Date;
}

export interface ConfigRejection {
  readonly layer: ConfigLayer;
  readonly error: ConfigError;
  readonly at: Date;
}

/** Semantic checks that need the mesh (e.g. is this discovery scheme registered). */
export type ConfigCheck = (config: MeshConfig) => readonly ConfigIssue[];

export type SnapshotListener = (snapshot: ConfigSnapshot, previous: ConfigSnapshot) => void;

interface LayerState {
  raw: unknown;
  info: ConfigSourceInfo;
}

export class ConfigStore {
  readonly #check: ConfigCheck | undefined;
  readonly #layers = new Map<ConfigLayer, LayerState>();
  readonly #listeners = new Set<SnapshotListener>();
  #current: ConfigSnapshot;
  #lastRejection: ConfigRejection | undefined;

  constructor(check?: ConfigCheck) {
    this.#check = check;
    this.#current = { version: 0, config: validateConfig({}, 'defaults'), sources: [], appliedAt: new Date() };
  }

  get current(): ConfigSnapshot {
    return this.#current;
  }

  get lastRejection(): ConfigRejection | undefined {
    return this.#lastRejection;
  }

  /**
   * Replace one layer's content. Throws ConfigError (naming `source`) and
   * changes nothing when the merged result is invalid.
   */
  setLayer(layer: ConfigLayer, raw: unknown, source: string): ConfigSnapshot {
    return this.setLayers([{ layer, raw, source }]);
  }

  /**
   * Replace several layers atomically (the initial load: a service may be
   * declared in the file and completed by code options, which neither layer
   * would pass alone).
   */
  setLayers(updates: readonly { layer: ConfigLayer; raw: unknown; source: string }[]): ConfigSnapshot {
    const candidate = new Map(this.#layers);
    for (const { layer, raw, source } of updates) {
      const prev = this.#layers.get(layer);
      const info: ConfigSourceInfo = {
        layer,
        source,
        version: (prev?.info.version ?? 0) + 1,
        updatedAt: new Date(),
      };
      if (raw === undefined) candidate.delete(layer);
      else candidate.set(layer, { raw, info });
    }
    const source = updates.map((u) => u.source).join(' + ');

    let config: MeshConfig;
    try {
      const merged = mergeLayers(CONFIG_LAYERS.map((l) => candidate.get(l)?.raw));
      config = validateConfig(merged, source);
      const issues = this.#check?.(config) ?? [];
      if (issues.length > 0) throw new ConfigError(source, issues);
    } catch (err) {
      if (err instanceof ConfigError) {
        this.#lastRejection = { layer: updates[0]?.layer ?? 'options', error: err, at: new Date() };
      }
      throw err;
    }

    this.#layers.clear();
    for (const [k, v] of candidate) this.#layers.set(k, v);
    const previous = this.#current;
    this.#current = {
      version: previous.version + 1,
      config,
      sources: CONFIG_LAYERS.flatMap((l) => {
        const s = this.#layers.get(l);
        return s ? [s.info] : [];
      }),
      appliedAt: new Date(),
    };
    for (const listener of this.#listeners) listener(this.#current, previous);
    return this.#current;
  }

  /**
   * Record an update that failed before it could be merged (a file that no
   * longer parses, an xDS resource that does not decode), so status views
   * show it beside validation failures.
   */
  recordRejection(layer: ConfigLayer, error: ConfigError): void {
    this.#lastRejection = { layer, error, at: new Date() };
  }

  /** Listeners run synchronously after each accepted update, in subscription order. */
  subscribe(listener: SnapshotListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
