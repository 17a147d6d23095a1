/** JWT request authentication (Istio RequestAuthentication); re-exports only. */
export { type AuthResult, NO_TOKEN_RESULT } from './auth-result.js';
export {
  compileRequestAuthentication,
  type RequestAuthenticator,
  type RequestAuthenticatorOptions,
} from './authenticator.js';
export { JwksCache, type JwksCacheOptions } from './jwks-cache.js';
export type { ClaimToHeader, HeaderLocation, JwtRule, RequestAuthenticationPolicy } from './model.js';
export { type ParseOptions, parseRequestAuthenticationYaml, validateRequestAuthentications } from './parse.js';
export type { JwksStats } from './remote-jwks.js';
export type { AuthRequest } from './token-locations.js';
export { ALLOWED_ALGORITHMS, DEFAULT_CLOCK_SKEW_SEC, type FailureReason } from './verify.js';
