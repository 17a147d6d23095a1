/**
 * Microbenchmark: what JWT request authentication costs per request with a
 * warm JWKS cache, against jose's jwtVerify called directly with the public
 * key in the same run, for RS256 and ES256 (the verified-token cache off,
 * so every token is checked); what a repeat token costs with the cache on
 * (the default); and what a request without a token costs (most internal
 * traffic).
 *
 * Run: npm run bench:jwt   (about 20 s)
 *
 * The key set is fetched once from a real HTTP server on 127.0.0.1 before
 * timing, so the authenticator runs exactly as in production: token lookup,
 * unverified `iss` read to choose the rule, the cache's key resolver, jose's
 * verify, and the result with its header mutations. "sequential" awaits
 * each request before the next (latency); "64 in flight" keeps 64
 * verifications outstanding (throughput, as under load). Each cell is the
 * median of several timed rounds after a warm-up, the two columns' rounds
 * interleaved. CPU time counts every thread of the process, so it includes
 * the WebCrypto work on the libuv pool and excludes time lost to other
 * processes; the ratio is of CPU time.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWTVerifyOptions, jwtVerify, SignJWT } from 'jose';
import { compileRequestAuthentication, type RequestAuthenticator } from '../src/security/jwt/authenticator.js';
import { JwksCache } from '../src/security/jwt/jwks-cache.js';
import { validateRequestAuthentications } from '../src/security/jwt/parse.js';
import type { AuthRequest } from '../src/security/jwt/token-locations.js';
import { ALLOWED_ALGORITHMS } from '../src/security/jwt/verify.js';
import { markdownTable, num, ratio } from './lib/table.js';

const ISSUER = 'https://issuer.bench.local';
const ROUNDS = 9;
const IN_FLIGHT = 64;

interface Alg {
  readonly alg: 'RS256' | 'ES256';
  readonly publicKey: CryptoKey;
  readonly token: string;
}

async function makeAlg(alg: 'RS256' | 'ES256'): Promise<Alg & { jwk: object }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: `${alg}-kid`, alg, use: 'sig' };
  const token = await new SignJWT({ scope: 'read write', azp: 'bench-client' })
    .setProtectedHeader({ alg, kid: jwk.kid })
    .setIssuer(ISSUER)
    .setSubject('user-1234')
    .setAudience('reviews')
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey);
  return { alg, publicKey, token, jwk };
}

function requestWith(token: string | undefined): AuthRequest {
  const headers: Record<string, string> = { host: 'reviews', 'user-agent': 'bench' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return { header: (name) => headers[name], query: () => undefined };
}

let sink = 0;

interface Sample {
  /** Wall-clock ns per op. */
  readonly wall: number;
  /** CPU ns per op, all of the process's threads (WebCrypto verifies on the libuv pool). */
  readonly cpu: number;
}

/** Per-op cost over `ops` operations, `concurrency` at a time. */
async function timeRound(op: () => Promise<unknown>, ops: number, concurrency: number): Promise<Sample> {
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  if (concurrency === 1) {
    for (let i = 0; i < ops; i++) {
      const r = await op();
      if (r !== undefined) sink++;
    }
  } else {
    let next = 0;
    const worker = async () => {
      while (next++ < ops) {
        const r = await op();
        if (r !== undefined) sink++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
  const wall = Number(process.hrtime.bigint() - start) / ops;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: ((cpu.user + cpu.system) * 1000) / ops };
}

interface Compared {
  /** Median wall and CPU ns/op of each op. */
  readonly wall: number[];
  readonly cpu: number[];
  /** Median over rounds of op[0]'s CPU time over op[1]'s in the same round. */
  readonly cpuRatio: number;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/**
 * The ops' rounds interleaved (a, b, a, b, ...), so load from other
 * processes lands on both alike. The ratio is of CPU time, taken per round
 * pair: on a shared machine wall time mostly measures the neighbours.
 */
async function compare(ops: readonly (() => Promise<unknown>)[], count: number, concurrency: number): Promise<Compared> {
  for (const op of ops) await timeRound(op, Math.max(100, count >> 2), concurrency);
  const samples = ops.map(() => [] as Sample[]);
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < ops.length; i++) samples[i]!.push(await timeRound(ops[i]!, count, concurrency));
    if (ops.length > 1) ratios.push(samples[0]![r]!.cpu / samples[1]![r]!.cpu);
  }
  return {
    wall: samples.map((s) => median(s.map((x) => x.wall))),
    cpu: samples.map((s) => median(s.map((x) => x.cpu))),
    cpuRatio: ratios.length > 0 ? median(ratios) : Number.NaN,
  };
}

async function main(): Promise<void> {
  const [rs, es] = await Promise.all([makeAlg('RS256'), makeAlg('ES256')]);
  const body = JSON.stringify({ keys: [rs.jwk, es.jwk] });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;

  const cache = new JwksCache();
  const policies = validateRequestAuthentications([
    { namespace: 'shop', jwtRules: [{ issuer: ISSUER, jwksUri, audiences: ['reviews'], outputClaimToHeaders: [{ header: 'x-user', claim: 'sub' }] }] },
  ]);
  // Every token checked: the verification cost itself, against jose's.
  const authn: RequestAuthenticator = compileRequestAuthentication(policies, { namespace: 'shop', jwks: cache, verifiedTokens: { maxTokens: 0 } });
  // The default: a repeat token comes from the verified-token cache.
  const remembering: RequestAuthenticator = compileRequestAuthentication(policies, { namespace: 'shop', jwks: cache });
  await cache.prefetch();

  const direct: JWTVerifyOptions = { algorithms: [...ALLOWED_ALGORITHMS], issuer: ISSUER, audience: ['reviews'], clockTolerance: 60 };
  const rows: string[][] = [];
  for (const a of [rs, es]) {
    const request = requestWith(a.token);
    const check = await authn.authenticate(request);
    if (check.principal !== `${ISSUER}/user-1234`) throw new Error(`bench setup: ${a.alg} token did not verify`);
    for (const concurrency of [1, IN_FLIGHT]) {
      const c = await compare(
        [() => authn.authenticate(request), () => jwtVerify(a.token, a.publicKey, direct)],
        2000,
        concurrency,
      );
      rows.push([
        `${a.alg}, ${concurrency === 1 ? 'sequential' : `${IN_FLIGHT} in flight`}`,
        num(c.wall[0]),
        num(c.wall[1]),
        num(c.cpu[0]),
        num(c.cpu[1]),
        ratio(c.cpuRatio),
      ]);
    }
  }
  const alone = async (label: string, op: () => Promise<unknown>, count: number) => {
    const c = await compare([op], count, 1);
    rows.push([label, num(c.wall[0]), '–', num(c.cpu[0]), '–', '–']);
  };
  for (const a of [rs, es]) {
    const request = requestWith(a.token);
    await alone(`${a.alg}, a repeat token (verified-token cache, the default)`, () => remembering.authenticate(request), 200_000);
  }
  const none = requestWith(undefined);
  await alone('no token (shared resolved result)', () => authn.authenticate(none), 1_000_000);
  // Rejected from the unverified `iss` alone: the authenticator's own work
  // before any crypto (lookup, decode, rule choice, the typed error).
  const strangerPayload = Buffer.from(JSON.stringify({ iss: 'https://elsewhere' })).toString('base64url');
  const stranger = requestWith(rs.token.replace(/^([^.]+)\.[^.]+/, (_m, h: string) => `${h}.${strangerPayload}`));
  await alone('token from an unknown issuer (rejected before crypto)', () => authn.authenticate(stranger).catch((e: unknown) => e), 100_000);

  await cache.close();
  server.close();
  process.stdout.write(
    `JWT request authentication, warm JWKS cache (Node ${process.version}, ${process.arch})\n\n${markdownTable(
      ['case', 'authn wall ns/op', 'jose wall ns/op', 'authn CPU ns/op', 'jose CPU ns/op', 'CPU ratio'],
      rows,
      ['left', 'right', 'right', 'right', 'right', 'right'],
    )}\n`,
  );
  if (sink < 0) process.stdout.write('');
}

await main();
