/**
 * The local config file (YAML or JSON), read at start and watched.
 *
 * Editors and Kubernetes ConfigMaps replace files rather than write them in
 * place (rename, symlink swap), so the watch is on the directory and the file
 * is re-read by name. Bursts of events are coalesced into one reload.
 */
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ConfigError } from './config-error.js';
import { applyIstioResources, ISTIO_KINDS, type IstioDocument } from './istio/istio-resources.js';

export function readConfigFile(path: string): unknown {
  const source = `file ${path}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    throw new ConfigError(source, [{ path: '', message: `cannot read the file (${code})` }], err);
  }
  return parseConfigText(text, source);
}

export function parseConfigText(text: string, source: string): unknown {
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const errors = list.flatMap((d) => d.errors);
  if (errors.length > 0) {
    throw new ConfigError(
      source,
      errors.map((e) => ({
        path: '',
        message: `YAML syntax error at line ${e.linePos?.[0].line ?? '?'}, column ${e.linePos?.[0].col ?? '?'}: ${e.message.split('\n')[0]}`,
      })),
    );
  }
  const values = list.map((d) => d.toJS()).filter((v) => v !== null && v !== undefined);
  return assembleDocuments(values, source);
}

/**
 * Kinds that configure gateways only (Istio's Gateway, the Gateway API's):
 * nothing in them applies to a sidecar, so a file may hold them beside the
 * VirtualServices that bind to them, and they are skipped, as the
 * VirtualServices bound only to gateways are (istio/virtual-service.ts).
 */
const GATEWAY_KINDS: ReadonlySet<string> = new Set(['Gateway']);

/** Istio resources a config file may hold beside (or instead of) our own document, by the config key they join. */
const RESOURCE_KEYS: Readonly<Record<string, string>> = {
  AuthorizationPolicy: 'authorizationPolicies',
  RequestAuthentication: 'requestAuthentications',
};

/**
 * One config from a file's documents: at most one of our own (no `kind`),
 * plus Istio resources, each appended to its list, so a user can keep the
 * Istio YAML they already have in the same file.
 */
function assembleDocuments(values: unknown[], source: string): unknown {
  const own = values.filter((v) => !isResource(v));
  if (own.length > 1) {
    throw new ConfigError(source, [{ path: '', message: `expected at most one mesh config document (without "kind"), found ${own.length}` }]);
  }
  const resources = values.filter(isResource);
  if (resources.length === 0) return own[0] ?? {};
  const out: Record<string, unknown> = { ...((own[0] as Record<string, unknown> | undefined) ?? {}) };
  const issues: { path: string; message: string }[] = [];
  // Networking resources translate into services (istio/); the policies above keep their own lists.
  const istio: IstioDocument[] = [];
  values.forEach((doc, i) => {
    if (!isResource(doc) || GATEWAY_KINDS.has(doc.kind)) return;
    if ((ISTIO_KINDS as readonly string[]).includes(doc.kind)) {
      istio.push({ index: i, doc: doc as IstioDocument['doc'] });
      return;
    }
    const key = RESOURCE_KEYS[doc.kind];
    if (key === undefined) {
      issues.push({
        path: `document ${i + 1}`,
        message: `kind ${doc.kind} is not supported in a config file; supported: ${[...Object.keys(RESOURCE_KEYS), ...ISTIO_KINDS].join(', ')} (and Gateway, which is skipped)`,
      });
      return;
    }
    const list = Array.isArray(out[key]) ? (out[key] as unknown[]) : [];
    out[key] = [...list, doc];
  });
  if (issues.length > 0) throw new ConfigError(source, issues);
  return istio.length > 0 ? applyIstioResources(out, istio, source) : out;
}

function isResource(v: unknown): v is { kind: string } {
  return typeof v === 'object' && v !== null && typeof (v as { kind?: unknown }).kind === 'string';
}

export interface ConfigFileWatch {
  close(): void;
}

/**
 * Calls `onChange` with the parsed content after the file changes, or
 * `onError` when it no longer parses or reads. Never calls back after close.
 */
export function watchConfigFile(
  path: string,
  onChange: (raw: unknown) => void,
  onError: (err: ConfigError) => void,
  debounceMs = 50,
): ConfigFileWatch {
  const abs = resolve(path);
  const name = basename(abs);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let last: string | undefined;
  try {
    last = readFileSync(abs, 'utf8');
  } catch {
    last = undefined;
  }

  const reload = () => {
    timer = undefined;
    if (closed) return;
    let text: string;
    try {
      text = readFileSync(abs, 'utf8');
    } catch (err) {
      // A rename-based save briefly leaves no file; the next event reloads it.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      onError(new ConfigError(`file ${path}`, [{ path: '', message: 'cannot read the file' }], err));
      return;
    }
    if (text === last) return;
    last = text;
    let raw: unknown;
    try {
      raw = parseConfigText(text, `file ${path}`);
    } catch (err) {
      onError(err as ConfigError);
      return;
    }
    onChange(raw);
  };

  const watcher: FSWatcher = watch(dirname(abs), { persistent: false }, (_event, file) => {
    if (closed || (file !== null && file !== name && !file.startsWith('..'))) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, debounceMs);
    timer.unref();
  });
  watcher.on('error', () => {});

  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
