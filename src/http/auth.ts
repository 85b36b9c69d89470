import type { FastifyRequest } from 'fastify';
import { ShowcaseError } from '../core/errors.js';
import { hashSecret, secretsEqual } from '../core/secrets.js';
import type { CreatorRecord, Store } from '../store/types.js';
import { AuthFailureLimiter } from '../core/auth-failure-limiter.js';

/** Who is calling: the operator, a creator, or nobody (anonymous viewer). */
export type Principal = { role: 'operator' } | { role: 'creator'; creator: CreatorRecord } | { role: 'anonymous' };

/** Reads the bearer token of a request, if any. */
export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S{1,512})$/i.exec(h);
  return m ? m[1] : '';
}

/**
 * Resolves tokens to principals: the operator token from config (compared in constant time) or a
 * creator token looked up by its hash. A token that matches nothing is a 401, never anonymous.
 */
export class Authenticator {
  readonly limiter: AuthFailureLimiter;

  constructor(private readonly adminToken: string, private readonly store: Store, limiter?: AuthFailureLimiter) {
    this.limiter = limiter ?? new AuthFailureLimiter();
  }

  /**
   * The caller, or a 401 ShowcaseError for a token that is present but invalid (429 once its address
   * has failed too often). A valid token is never refused by the limiter: it rate-limits failures.
   */
  async resolve(req: FastifyRequest): Promise<Principal> {
    const token = bearerToken(req);
    if (token === undefined) return { role: 'anonymous' };
    if (token && secretsEqual(token, this.adminToken)) return { role: 'operator' };
    if (token) {
      const creator = await this.store.getCreatorByTokenHash(hashSecret(token));
      if (creator && !creator.disabled) return { role: 'creator', creator };
    }
    this.limiter.failure(req.ip);
    throw new ShowcaseError('SHOWCASE_ERR_UNAUTHORIZED', 'invalid token');
  }

  /** The caller, who must be the operator or a creator (401 otherwise). */
  async requireAuthenticated(req: FastifyRequest): Promise<Exclude<Principal, { role: 'anonymous' }>> {
    const p = await this.resolve(req);
    if (p.role === 'anonymous') throw new ShowcaseError('SHOWCASE_ERR_UNAUTHORIZED', 'a bearer token is required');
    return p;
  }
}
