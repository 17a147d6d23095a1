/**
 * The schema of one JWTRule, shared by Istio's RequestAuthentication and our
 * compact form: same field names, same meaning, so a rule can be copied
 * between the two. Objects are strict so a misspelt field is an error.
 */
import { z } from 'zod';
import { duration } from '../../config/fields.js';
import { parseJwksText } from './jwks-document.js';
import type { JwtRule } from './model.js';

/** RFC 9110 token characters: what a header name may contain. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const headerName = z
  .string()
  .min(1)
  .refine((s) => HEADER_NAME.test(s), {
    error: (iss) => `${JSON.stringify(iss.input)} is not a valid HTTP header name`,
  })
  .transform((s) => s.toLowerCase());

const nonEmpty = z.string().min(1);

/** Cookie names are tokens too (RFC 6265). */
const cookieName = nonEmpty.refine((s) => HEADER_NAME.test(s), {
  error: (iss) => `${JSON.stringify(iss.input)} is not a valid cookie name`,
});

function httpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const jwksUri = z.string().refine(httpUrl, {
  error: (iss) => `${JSON.stringify(iss.input)} is not an http or https URL`,
});

const inlineJwks = z.string().transform((text, ctx) => {
  const checked = parseJwksText(text);
  if (typeof checked === 'string') {
    ctx.addIssue({ code: 'custom', message: checked });
    return z.NEVER;
  }
  for (const problem of checked.problems) ctx.addIssue({ code: 'custom', message: problem });
  if (checked.problems.length === 0 && checked.jwks.keys.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'has no keys; a token could never verify' });
  }
  return checked.jwks;
});

const timeout = duration.refine((ms) => ms >= 1, { error: 'must be at least 1ms' });

export const jwtRuleSchema = z
  .strictObject({
    issuer: z.string().optional(),
    audiences: z.array(z.string().min(1, { error: 'must not be empty' })).optional(),
    jwksUri: jwksUri.optional(),
    jwks: inlineJwks.optional(),
    fromHeaders: z.array(z.strictObject({ name: headerName, prefix: z.string().optional() })).optional(),
    fromParams: z.array(nonEmpty).optional(),
    fromCookies: z.array(cookieName).optional(),
    outputPayloadToHeader: headerName.optional(),
    forwardOriginalToken: z.boolean().optional(),
    outputClaimToHeaders: z.array(z.strictObject({ header: headerName, claim: nonEmpty })).optional(),
    timeout: timeout.optional(),
  })
  .superRefine((rule, ctx) => {
    const issuer = rule.issuer ?? '';
    if (issuer === '' && rule.jwksUri === undefined) {
      // Istio's own rule: without an issuer, a jwksUri is what ties tokens to keys.
      ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'set issuer, jwksUri, or both' });
    } else if (rule.jwksUri === undefined && rule.jwks === undefined && !httpUrl(issuer)) {
      ctx.addIssue({
        code: 'custom',
        path: ['jwksUri'],
        message: `is required: the keys of issuer ${JSON.stringify(issuer)} cannot be found by OpenID discovery, which needs an http or https issuer URL (or set jwks)`,
      });
    }
    const seen = new Set<string>();
    rule.outputClaimToHeaders?.forEach((op, i) => {
      if (seen.has(op.header)) {
        ctx.addIssue({
          code: 'custom',
          path: ['outputClaimToHeaders', i, 'header'],
          message: `"${op.header}" is already the target of an earlier claim; each header takes one claim`,
        });
      }
      seen.add(op.header);
    });
  })
  .transform(
    (rule): JwtRule => ({
      issuer: rule.issuer === '' ? undefined : rule.issuer,
      audiences: rule.audiences ?? [],
      jwksUri: rule.jwks === undefined ? rule.jwksUri : undefined,
      jwks: rule.jwks,
      fromHeaders: (rule.fromHeaders ?? []).map((h) => ({ name: h.name, prefix: h.prefix ?? '' })),
      fromParams: rule.fromParams ?? [],
      fromCookies: rule.fromCookies ?? [],
      outputPayloadToHeader: rule.outputPayloadToHeader,
      forwardOriginalToken: rule.forwardOriginalToken ?? false,
      outputClaimToHeaders: rule.outputClaimToHeaders ?? [],
      timeoutMs: rule.timeout,
    }),
  );
