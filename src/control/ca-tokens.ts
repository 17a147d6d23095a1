/**
 * The bootstrap-token file of the control plane's CA (`--ca-tokens FILE`):
 * which token may obtain which SPIFFE IDs. YAML or JSON:
 *
 *   tokens:
 *     - token: 6f1c...            # a long random secret, one per workload or namespace
 *       identities:
 *         - spiffe://cluster.local/ns/shop/sa/cart
 *         - spiffe://cluster.local/ns/shop/sa/*     # any service account in "shop"
 *
 * Keep the file private (mode 0600): it holds secrets.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../config/config-error.js';
import { toPrefixedIssues } from '../config/zod-issues.js';
import type { TokenGrant } from './ca-auth.js';

const SPIFFE_PATTERN = /^spiffe:\/\/[a-z0-9._-]+\/\S+$/;

const tokenFileSchema = z.strictObject({
  tokens: z
    .array(
      z.strictObject({
        token: z.string().min(16, { error: 'must be at least 16 characters (use a long random secret)' }),
        identities: z
          .array(
            z.string().regex(SPIFFE_PATTERN, {
              error: (iss) => `${JSON.stringify(iss.input)} is not a SPIFFE ID (or a prefix ending in "/*")`,
            }),
          )
          .min(1),
      }),
    )
    .min(1),
});

export function readTokenFile(path: string): TokenGrant[] {
  const source = `CA token file ${path}`;
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(source, [{ path: '', message: `cannot read or parse the file (${(err as Error).message.split('\n')[0]})` }], err);
  }
  const result = tokenFileSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(source, toPrefixedIssues(tokenFileSchema, result.error.issues, raw, []));
  return result.data.tokens;
}
