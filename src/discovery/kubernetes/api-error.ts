/**
 * An API server answer that is not success: the HTTP status and the
 * `Status` object's reason and message, which name the verb, resource and
 * user (for a 403 they say exactly which RBAC permission is missing).
 */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';

  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }

  /** 410 Gone / Expired: the resourceVersion was compacted away; relist. */
  get gone(): boolean {
    return this.status === 410 || this.reason === 'Expired' || this.reason === 'Gone';
  }

  get forbidden(): boolean {
    return this.status === 403;
  }

  /** From a parsed `Status` body (or anything else the server sent). */
  static fromStatus(httpStatus: number, body: unknown): KubeApiError {
    const s = (typeof body === 'object' && body !== null ? body : {}) as { code?: unknown; reason?: unknown; message?: unknown };
    const code = typeof s.code === 'number' ? s.code : httpStatus;
    const reason = typeof s.reason === 'string' ? s.reason : `HTTP ${httpStatus}`;
    const message = typeof s.message === 'string' && s.message !== '' ? s.message : `the API server answered HTTP ${httpStatus}`;
    return new KubeApiError(code, reason, message);
  }
}
