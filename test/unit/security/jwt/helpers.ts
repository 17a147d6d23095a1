/** Real keys, real tokens and a real JWKS server on port 0 for the JWT tests. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { expect } from 'vitest';
import { isMeshError } from '../../../../src/errors.js';
import type { AuthRequest } from '../../../../src/security/jwt/token-locations.js';
import type { MeshLogger } from '../../../../src/telemetry/logger.js';

export interface TestKey {
  readonly alg: string;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
}

export async function makeKey(alg: 'RS256' | 'ES256' | 'PS256' | 'EdDSA', kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicKey, jwk };
}

export function jwksText(...keys: TestKey[]): string {
  return JSON.stringify({ keys: keys.map((k) => k.jwk) });
}

export interface SignOptions {
  readonly iss?: string | null;
  readonly sub?: string | null;
  readonly aud?: string | string[];
  /** Seconds from now; null for no exp. */
  readonly expIn?: number | null;
  /** Seconds from now. */
  readonly nbfIn?: number;
  readonly kid?: string | null;
  readonly claims?: JWTPayload;
}

export const ISSUER = 'https://issuer.example.com';

export async function sign(key: TestKey, options: SignOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ ...options.claims });
  const header: { alg: string; kid?: string } = { alg: key.alg };
  if (options.kid !== null) header.kid = options.kid ?? key.kid;
  jwt.setProtectedHeader(header).setIssuedAt(now);
  if (options.iss !== null) jwt.setIssuer(options.iss ?? ISSUER);
  if (options.sub !== null) jwt.setSubject(options.sub ?? 'alice');
  if (options.aud !== undefined) jwt.setAudience(options.aud);
  if (options.expIn !== null) jwt.setExpirationTime(now + (options.expIn ?? 3600));
  if (options.nbfIn !== undefined) jwt.setNotBefore(now + options.nbfIn);
  return jwt.sign(key.privateKey);
}

/** An unsigned token with any header, for `alg: none` and friends. */
export function rawToken(header: object, payload: object, signature = ''): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64(header)}.${b64(payload)}.${signature}`;
}

export interface FakeRequest extends AuthRequest {
  readonly headerReads: string[];
}

/** An AuthRequest over plain maps, recording which headers were read. */
export function req(
  init: { headers?: Record<string, string>; query?: Record<string, string>; cookies?: Record<string, string> } = {},
): FakeRequest {
  const headerReads: string[] = [];
  const r: FakeRequest = {
    headerReads,
    header: (name) => {
      headerReads.push(name);
      return init.headers?.[name];
    },
    query: (name) => init.query?.[name],
  };
  if (init.cookies !== undefined) {
    const cookies = init.cookies;
    return { ...r, cookie: (name: string) => cookies[name] };
  }
  return r;
}

export function bearer(token: string): FakeRequest {
  return req({ headers: { authorization: `Bearer ${token}` } });
}

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly fields: Record<string, unknown> | undefined;
}

export function memoryLogger(): MeshLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push({ level, message, fields });
  };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** A JWKS server whose document, status and availability the test changes between requests. */
export interface JwksServer {
  readonly url: string;
  readonly origin: string;
  /** Requests served per path. */
  hits(path?: string): number;
  body: string;
  status: number;
  /** Extra documents by path (OpenID discovery). */
  readonly routes: Map<string, string>;
  /** When true, every connection is destroyed without a response. */
  down: boolean;
  /** When true, requests are read and never answered. */
  hang: boolean;
  /** When true, the body is sent chunked, without a content-length. */
  chunked: boolean;
  close(): Promise<void>;
}

export async function startJwksServer(initial: string): Promise<JwksServer> {
  const counts = new Map<string, number>();
  const state = {
    body: initial,
    status: 200,
    down: false,
    hang: false,
    chunked: false,
    routes: new Map<string, string>(),
  };
  const server: Server = createServer((request, response) => {
    const path = request.url ?? '/';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    if (state.down) {
      request.socket.destroy();
      return;
    }
    if (state.hang) return;
    const routed = state.routes.get(path);
    const body = routed ?? state.body;
    const headers: Record<string, string | number> = { 'content-type': 'application/json' };
    if (!state.chunked) headers['content-length'] = Buffer.byteLength(body);
    response.writeHead(routed === undefined ? state.status : 200, headers);
    if (state.chunked) for (let i = 0; i < body.length; i += 1000) response.write(body.slice(i, i + 1000));
    response.end(state.chunked ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return Object.assign(state, {
    url: `${origin}/jwks.json`,
    origin,
    hits: (path = '/jwks.json') => counts.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** The MESH_UNAUTHENTICATED details of a rejection. */
export async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isMeshError(err), 'expected a MeshError').toBe(true);
  const mesh = err as { code: string; httpStatus: number; grpcStatus: number; details: Record<string, unknown>; message: string };
  expect(mesh.code).toBe('MESH_UNAUTHENTICATED');
  expect(mesh.httpStatus).toBe(401);
  expect(mesh.grpcStatus).toBe(16);
  return { ...mesh.details, message: mesh.message };
}
