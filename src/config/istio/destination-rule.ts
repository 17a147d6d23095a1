/**
 * Istio DestinationRule → a service's traffic policy in the config model:
 * loadBalancer, connectionPool, outlierDetection, tls and subsets. The
 * field names mostly match already (the model follows Istio); the few that
 * differ are mapped here, and the rest are reported.
 */
import { isMap, type Raw, type ResourceReader } from './reader.js';

const POLICY_FIELDS = ['loadBalancer', 'connectionPool', 'outlierDetection', 'tls'];
const SIMPLE: Readonly<Record<string, string>> = {
  ROUND_ROBIN: 'round-robin',
  LEAST_REQUEST: 'least-request',
  LEAST_CONN: 'least-request',
  RANDOM: 'random',
};
const TLS_MODES: Readonly<Record<string, string>> = { DISABLE: 'disable', SIMPLE: 'simple', ISTIO_MUTUAL: 'mutual' };

export interface DestinationPolicy {
  readonly host: string;
  readonly fields: Raw;
  /**
   * `trafficPolicy.portLevelSettings`, by port number: the one for the
   * service's port replaces the blocks it sets (istio-resources.ts picks
   * it, knowing the port); the others name ports the service does not have.
   */
  readonly portLevel: readonly { readonly port: number; readonly fields: Raw; readonly at: ResourceReader }[];
}

export function translateDestinationRule(doc: Raw, r: ResourceReader): DestinationPolicy | undefined {
  const s = r.child('spec');
  const spec = s.map(doc.spec, true);
  if (spec === undefined) return undefined;
  s.only(spec, ['host', 'trafficPolicy', 'subsets', 'exportTo'], { workloadSelector: 'is not supported: a rule applies to every client of the host' });
  const host = s.child('host').string(spec.host, true);
  if (host === undefined) return undefined;
  const fields: Raw = trafficPolicy(spec.trafficPolicy, s.child('trafficPolicy'), POLICY_FIELDS, true);
  const portLevel = portLevelSettings(spec.trafficPolicy, s.child('trafficPolicy'));
  const subsets = s.list(spec.subsets);
  if (subsets !== undefined) {
    const out: Raw = {};
    subsets.forEach((value, i) => {
      const sr = s.child('subsets').child(i);
      const subset = sr.map(value, true);
      if (subset === undefined) return;
      sr.only(subset, ['name', 'labels', 'trafficPolicy']);
      const name = sr.child('name').string(subset.name, true);
      if (name === undefined) return;
      const policy = trafficPolicy(subset.trafficPolicy, sr.child('trafficPolicy'), ['loadBalancer']);
      if (isMap(policy.loadBalancer) && policy.loadBalancer.warmup !== undefined) {
        // Istio makes each subset a cluster of its own; here a subset's endpoints are the service's, weights and all.
        sr.child('trafficPolicy').child('loadBalancer').issue('is not supported on a subset: proxyless ramps an endpoint for the whole service; set it in spec.trafficPolicy.loadBalancer', 'warmup');
        delete policy.loadBalancer.warmup;
      }
      out[name] = { labels: subset.labels ?? {}, ...policy };
    });
    fields.subsets = out;
  }
  return { host, fields, portLevel };
}

function portLevelSettings(value: unknown, r: ResourceReader): DestinationPolicy['portLevel'] {
  if (!isMap(value) || value.portLevelSettings === undefined) return [];
  const pr = r.child('portLevelSettings');
  return (pr.list(value.portLevelSettings) ?? []).flatMap((entry, i) => {
    const er = pr.child(i);
    const e = er.map(entry, true);
    if (e === undefined) return [];
    const port = isMap(e.port) ? e.port.number : undefined;
    if (typeof port !== 'number' || !Number.isInteger(port)) {
      er.issue('port.number is required (a port selects the entry)', 'port');
      return [];
    }
    const { port: _port, ...policy } = e;
    return [{ port, fields: trafficPolicy(policy, er, POLICY_FIELDS), at: er }];
  });
}

/** `portLevel`: whether `portLevelSettings` may appear (read separately by portLevelSettings). */
function trafficPolicy(value: unknown, r: ResourceReader, supported: readonly string[], portLevel = false): Raw {
  const policy = r.map(value);
  if (policy === undefined) return {};
  r.only(policy, portLevel ? [...supported, 'portLevelSettings'] : supported, {
    portLevelSettings: 'is not supported here: port-level settings apply to the whole destination',
  });
  const out: Raw = {};
  if (policy.loadBalancer !== undefined) out.loadBalancer = loadBalancer(policy.loadBalancer, r.child('loadBalancer'));
  if (policy.connectionPool !== undefined) out.connectionPool = connectionPool(policy.connectionPool, r.child('connectionPool'));
  if (policy.outlierDetection !== undefined) {
    const { minHealthPercent, ...od } = outlierDetection(policy.outlierDetection, r.child('outlierDetection'));
    out.outlierDetection = od;
    // Istio writes minHealthPercent as the cluster's healthy_panic_threshold: the model's panicThreshold.
    if (minHealthPercent !== undefined) out.loadBalancer = { ...(out.loadBalancer as Raw | undefined), panicThreshold: minHealthPercent };
  }
  if (policy.tls !== undefined) out.tls = tls(policy.tls, r.child('tls'));
  return out;
}

function loadBalancer(value: unknown, r: ResourceReader): Raw {
  const lb = r.map(value) ?? {};
  r.only(lb, ['simple', 'consistentHash', 'localityLbSetting', 'warmup', 'warmupDurationSecs']);
  const out: Raw = {};
  if (lb.simple !== undefined) {
    const policy = SIMPLE[String(lb.simple)];
    if (policy === undefined) r.issue(`must be one of ${Object.keys(SIMPLE).join(', ')}, got ${JSON.stringify(lb.simple)}`, 'simple');
    else out.policy = policy;
  }
  const hash = lb.consistentHash === undefined ? undefined : r.child('consistentHash').map(lb.consistentHash);
  if (hash !== undefined) {
    const h = r.child('consistentHash');
    h.only(hash, ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName', 'ringHash', 'maglev', 'minimumRingSize']);
    const maglev = isMap(hash.maglev);
    out.policy = maglev ? 'maglev' : 'ring-hash';
    if (hash.httpHeaderName !== undefined) out.hashOn = { header: hash.httpHeaderName };
    else if (isMap(hash.httpCookie)) {
      h.child('httpCookie').only(hash.httpCookie, ['name'], { ttl: 'is not supported: proxyless never sets the cookie', path: 'is not supported: proxyless never sets the cookie' });
      out.hashOn = { cookie: hash.httpCookie.name };
    } else if (hash.useSourceIp === true) out.hashOn = { sourceIp: true };
    else if (hash.httpQueryParameterName !== undefined) out.hashOn = { queryParameter: hash.httpQueryParameterName };
    const ring = isMap(hash.ringHash) ? hash.ringHash.minimumRingSize : hash.minimumRingSize;
    if (ring !== undefined) out.ringSize = { min: Number(ring) };
    if (maglev && isMap(hash.maglev) && hash.maglev.tableSize !== undefined) out.maglevTableSize = Number(hash.maglev.tableSize);
  }
  const warmup = warmupOf(lb, r);
  if (warmup !== undefined) out.warmup = warmup;
  if (isMap(lb.localityLbSetting)) {
    const locality = lb.localityLbSetting;
    r.child('localityLbSetting').only(locality, ['enabled', 'failover', 'failoverPriority', 'distribute']);
    if (locality.enabled !== undefined) out.localityAware = locality.enabled;
    // The model's fields are Istio's; its schema checks them and says where.
    if (locality.failover !== undefined) out.failover = locality.failover;
    if (locality.failoverPriority !== undefined) out.failoverPriority = locality.failoverPriority;
    if (locality.distribute !== undefined) out.distribute = locality.distribute;
  }
  return out;
}

/** `warmup` (Istio 1.24+), or the older `warmupDurationSecs` (a duration string, despite its name). */
function warmupOf(lb: Raw, r: ResourceReader): Raw | undefined {
  if (lb.warmup !== undefined && lb.warmupDurationSecs !== undefined) {
    r.issue('set only one of warmup and warmupDurationSecs (its deprecated form)', 'warmupDurationSecs');
    return undefined;
  }
  if (lb.warmupDurationSecs !== undefined) return { duration: lb.warmupDurationSecs };
  const w = r.child('warmup').map(lb.warmup);
  if (w === undefined) return undefined;
  r.child('warmup').only(w, ['duration', 'minimumPercent', 'aggression']);
  // The model's fields are Istio's; its schema checks the values and says where.
  const out: Raw = {};
  for (const key of ['duration', 'minimumPercent', 'aggression']) if (w[key] !== undefined) out[key] = w[key];
  return out;
}

function connectionPool(value: unknown, r: ResourceReader): Raw {
  const pool = r.map(value) ?? {};
  r.only(pool, ['tcp', 'http']);
  const out: Raw = {};
  const tcp = r.child('tcp').map(pool.tcp);
  if (tcp !== undefined) {
    r.child('tcp').only(tcp, ['maxConnections', 'connectTimeout', 'tcpKeepalive']);
    if (tcp.maxConnections !== undefined) out.maxConnections = tcp.maxConnections;
    if (tcp.connectTimeout !== undefined) out.connectTimeout = tcp.connectTimeout;
    // Same field names; the model says which of them Node can honour.
    if (tcp.tcpKeepalive !== undefined) out.tcpKeepalive = tcp.tcpKeepalive;
  }
  const http = r.child('http').map(pool.http);
  if (http !== undefined) {
    r.child('http').only(http, ['http1MaxPendingRequests', 'http2MaxRequests', 'maxRetries', 'maxRequestsPerConnection', 'idleTimeout']);
    if (http.http1MaxPendingRequests !== undefined) out.maxPendingRequests = http.http1MaxPendingRequests;
    if (http.http2MaxRequests !== undefined) out.maxRequests = http.http2MaxRequests;
    if (http.maxRetries !== undefined) out.maxRetries = http.maxRetries;
    // Istio's 0 means "no limit" here, which is the model's absent value.
    if (http.maxRequestsPerConnection !== undefined && http.maxRequestsPerConnection !== 0) out.maxRequestsPerConnection = http.maxRequestsPerConnection;
    if (http.idleTimeout !== undefined) out.idleTimeout = http.idleTimeout;
  }
  return out;
}

function outlierDetection(value: unknown, r: ResourceReader): Raw {
  const od = r.map(value) ?? {};
  const fields = ['consecutive5xxErrors', 'consecutiveGatewayErrors', 'interval', 'baseEjectionTime', 'maxEjectionPercent', 'minHealthPercent'];
  r.only(od, fields, {
    consecutiveErrors: 'is deprecated in Istio; write consecutiveGatewayErrors or consecutive5xxErrors',
  });
  return Object.fromEntries(fields.filter((f) => od[f] !== undefined).map((f) => [f, od[f]]));
}

function tls(value: unknown, r: ResourceReader): Raw {
  const t = r.map(value) ?? {};
  r.only(t, ['mode', 'subjectAltNames', 'sni', 'caCertificates'], {
    clientCertificate: 'is not supported: proxyless presents its workload certificate (use mode ISTIO_MUTUAL)',
    privateKey: 'is not supported: proxyless presents its workload certificate (use mode ISTIO_MUTUAL)',
    credentialName: 'is not supported: name the CA file in caCertificates',
    insecureSkipVerify: 'is not supported: proxyless always verifies the server',
  });
  const out: Raw = {};
  const mode = TLS_MODES[String(t.mode)];
  if (mode === undefined) {
    const hint = t.mode === 'MUTUAL' ? ' (MUTUAL with your own client certificate is not supported; ISTIO_MUTUAL uses the workload certificate)' : '';
    r.issue(`must be one of ${Object.keys(TLS_MODES).join(', ')}, got ${JSON.stringify(t.mode)}${hint}`, 'mode');
  } else out.mode = mode;
  for (const f of ['subjectAltNames', 'sni', 'caCertificates']) if (t[f] !== undefined) out[f] = t[f];
  return out;
}
