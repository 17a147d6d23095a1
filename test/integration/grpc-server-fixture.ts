/**
 * What the gRPC server tests share: a dev CA on disk (the meshes' and the
 * test clients' certificates come from it), a backend mesh with JWT
 * authentication and a DENY policy, a generic service definition with raw
 * JSON bytes on the wire (no protoc), and a real grpc-js client with or
 * without a client certificate.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createMesh, type Mesh, type MeshGrpcServer, type MtlsMode } from '../../src/index.js';
import type { CertificateAuthority } from '../../src/security/certs/ca.js';
import { loadOrCreateCaDirectory } from '../../src/security/certs/ca-store.js';
import { jsonBytes as json, jsonMethod, parseJson as parse } from '../helpers/grpc/json-method.js';

const unary = (service: string, name: string) => jsonMethod(service, name);

/** `test.Greeter`: Hello, Secret, Slow, Limited, Whoami (JSON in, JSON out). */
export const GREETER = 'test.Greeter';
export const GreeterService: grpc.ServiceDefinition = {
  Hello: unary(GREETER, 'Hello'),
  Secret: unary(GREETER, 'Secret'),
  Slow: unary(GREETER, 'Slow'),
  Limited: unary(GREETER, 'Limited'),
  Whoami: unary(GREETER, 'Whoami'),
};

export interface Workspace {
  readonly dir: string;
  readonly ca: CertificateAuthority;
  readonly rootPem: string;
  readonly meshes: Mesh[];
  readonly servers: MeshGrpcServer[];
  readonly clients: grpc.Client[];
  /** A STRICT/PERMISSIVE/DISABLE backend `greeter` in `shop`; `policies` are added to its DENY of Secret. */
  backend(
    mode: MtlsMode,
    extra?: {
      portLevelMtls?: Record<string, { mode: MtlsMode }>;
      policies?: unknown[];
      certificates?: Record<string, unknown>;
      inbound?: Record<string, unknown>;
    },
  ): Promise<Mesh>;
  /** A key and certificate chain for `spiffe://cluster.local/ns/<ns>/sa/<sa>`. */
  issue(sa: string, ns?: string): Promise<{ key: string; cert: string }>;
  token(claims: Record<string, unknown>): Promise<string>;
  client(port: number, tls?: { key: string; cert: string } | 'server-only'): grpc.Client;
  cleanup(): Promise<void>;
  close(): Promise<void>;
}

export async function grpcWorkspace(): Promise<Workspace> {
  const dir = mkdtempSync(join(tmpdir(), 'proxyless-grpc-'));
  const ca = (await loadOrCreateCaDirectory(join(dir, 'ca'), { trustDomain: 'cluster.local' })).ca;
  const rootPem = ca.trustBundlePems.join('');
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] });
  const meshes: Mesh[] = [];
  const servers: MeshGrpcServer[] = [];
  const clients: grpc.Client[] = [];
  const ws: Workspace = {
    dir,
    ca,
    rootPem,
    meshes,
    servers,
    clients,
    async backend(mode, { policies = [], certificates = { provider: 'dev', dir: join(dir, 'ca') }, inbound, ...mtls } = {}) {
      const m = createMesh({
        env: false,
        config: {
          mesh: {
            namespace: 'shop',
            serviceName: 'greeter',
            ...(inbound !== undefined ? { inbound } : {}),
            security: { serviceAccount: 'greeter', certificates, mtls: { mode, ...mtls } },
          },
          requestAuthentications: [{ name: 'jwt', jwtRules: [{ issuer: 'https://issuer.example', audiences: ['greeter'], jwks }] }],
          authorizationPolicies: [{ name: 'no-secrets', action: 'DENY', rules: [{ to: [{ paths: [`/${GREETER}/Secret`] }] }] }, ...policies],
        } as never,
      });
      meshes.push(m);
      await m.ready();
      return m;
    },
    async issue(sa, ns = 'shop') {
      const leaf = await ca.issue({ spiffeId: `spiffe://cluster.local/ns/${ns}/sa/${sa}` });
      return { key: leaf.keyPem, cert: leaf.chainPem };
    },
    token(claims) {
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer('https://issuer.example')
        .setSubject('alice')
        .setAudience('greeter')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
    },
    client(port, tls) {
      const creds =
        tls === undefined
          ? grpc.credentials.createInsecure()
          : grpc.credentials.createSsl(
              Buffer.from(rootPem),
              tls === 'server-only' ? null : Buffer.from(tls.key),
              tls === 'server-only' ? null : Buffer.from(tls.cert),
              // Workload certificates name a SPIFFE ID, not a host.
              { checkServerIdentity: () => undefined },
            );
      // An IP is no TLS server name: name the service instead (the certificate is checked by chain, above).
      const c = new grpc.Client(`127.0.0.1:${port}`, creds, { 'grpc.ssl_target_name_override': 'greeter' });
      clients.push(c);
      return c;
    },
    async cleanup() {
      for (const c of clients.splice(0)) c.close();
      for (const s of servers.splice(0)) s.destroy();
      await Promise.all(meshes.splice(0).map((m) => m.destroy()));
    },
    async close() {
      await ws.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return ws;
}

export interface Reply {
  readonly value?: unknown;
  readonly code: number;
  readonly details?: string;
  readonly trailers?: grpc.Metadata;
}

/** One unary call; resolves with the reply or the status, never rejects. */
export function callUnary(
  client: grpc.Client,
  method: string,
  request: unknown = {},
  options: { metadata?: Record<string, string>; deadlineMs?: number } = {},
): Promise<Reply> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(options.metadata ?? {})) md.set(k, v);
  const callOptions: grpc.CallOptions = options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
  return new Promise((resolve) => {
    client.makeUnaryRequest(`/${GREETER}/${method}`, json, parse, request, md, callOptions, (err, value) => {
      if (err) resolve({ code: err.code, details: err.details, trailers: err.metadata });
      else resolve({ value, code: grpc.status.OK });
    });
  });
}
