import type { FastifyRequest } from 'fastify';
import { ShowcaseError } from '../core/errors.js';
import { hashSecret, secretsEqual } from '../core/secrets.js';
import type { CreatorRecord, ShopperRecord, Store } from '../store/types.js';
import { AuthFailureLimiter } from '../core/auth-failure-limiter.js';

/** Who is calling: the operator, a creator, or nobody (anonymous viewer). */
export type Principal = { role: 'operator' } | { role: 'creator'; creator: CreatorRecord } | { role: 'anonymous' };

/** Who is calling where shoppers count too (the room, /v1/shoppers/me): a Principal or a shopper. */
export type RoomPrincipal = Principal | { role: 'shopper'; shopper: ShopperRecord };

/** Reads the bearer token of a request, if any. */
export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S{1,512})$/i.exec(h);
  return m ? m[1] : '';
}

/**
 * Resolves tokens to principals: the operator token from config (compared in constant time), a
 * creator token looked up by its hash, or (for the room's routes) a shopper token. A token that
 * matches nothing is a 401, never anonymous.
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
    const p = await this.resolveToken(bearerToken(req), req.ip);
    // Shopper tokens open the room and /v1/shoppers/me only: every other route refuses them.
    if (p.role === 'shopper') throw new ShowcaseError('SHOWCASE_ERR_FORBIDDEN', 'a shopper token cannot do this');
    return p;
  }

  /** The caller of a route shoppers may use: like resolve(), with shopper tokens resolved too. */
  async resolveWithShopper(req: FastifyRequest): Promise<RoomPrincipal> {
    return this.resolveToken(bearerToken(req), req.ip);
  }

  /**
   * Resolves a token from `address` (the HTTP header, or a room socket's auth frame): undefined is
   * anonymous; the operator, a creator (looked up first) or a shopper; anything else a 401 counted
   * by the failure limiter (429 once the address failed too often).
   */
  async resolveToken(token: string | undefined, address: string): Promise<RoomPrincipal> {
    if (token === undefined) return { role: 'anonymous' };
    if (token && secretsEqual(token, this.adminToken)) return { role: 'operator' };
    if (token) {
      const hash = hashSecret(token);
      const creator = await this.store.getCreatorByTokenHash(hash);
      if (creator && !creator.disabled) return { role: 'creator', creator };
      if (!creator) {
        const shopper = await this.store.getShopperByTokenHash(hash);
        if (shopper) return { role: 'shopper', shopper };
      }
    }
    this.limiter.failure(address);
    throw new ShowcaseError('SHOWCASE_ERR_UNAUTHORIZED', 'invalid token');
  }

  /** The caller, who must be the operator or a creator (401 otherwise). */
  async requireAuthenticated(req: FastifyRequest): Promise<Exclude<Principal, { role: 'anonymous' }>> {
    const p = await this.resolve(req);
    if (p.role === 'anonymous') throw new ShowcaseError('SHOWCASE_ERR_UNAUTHORIZED', 'a bearer token is required');
    return p;
  }
}
