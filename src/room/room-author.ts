import { ShowcaseError } from '../core/errors.js';
import type { RoomPrincipal } from '../http/auth.js';
import type { RoomAuthor } from './room-fanout.js';

/**
 * Who an authenticated room socket speaks as: a shopper as themselves, the operator as the
 * operator, the stream's own creator as the host; any other creator may read but not post.
 */
export function roomAuthor(p: RoomPrincipal, ownerId: string | null): RoomAuthor {
  if (p.role === 'shopper') return { id: p.shopper.id, displayName: p.shopper.displayName, role: 'shopper' };
  if (p.role === 'operator') return { id: 'operator', displayName: 'Operator', role: 'operator' };
  if (p.role === 'creator' && p.creator.id === ownerId) return { id: p.creator.id, displayName: p.creator.displayName, role: 'host' };
  throw new ShowcaseError('SHOWCASE_ERR_FORBIDDEN', 'only shoppers, the stream\'s creator and the operator post here');
}
