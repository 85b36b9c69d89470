import type { LiveStream } from './live-stream.js';
import type { Logger } from './logger.js';
import type { OwnerDisabledCheck } from './stream-registry.js';
import type { Store } from '../store/types.js';

/** A stream whose owner is disabled (or gone) opens nothing; the operator's streams have no owner. */
export function ownerDisabledCheck(store: Pick<Store, 'getCreator'>): OwnerDisabledCheck {
  return async (rec) => {
    if (!rec.ownerId) return false;
    return (await store.getCreator(rec.ownerId))?.disabled ?? true;
  };
}

/** What the cascade needs of the registry: the in-memory streams and a way to end one. */
export interface CascadeStreams {
  all(): LiveStream[];
  end(id: string, reason: string): void;
}

/**
 * Disabling a creator ends every stream of theirs this node has in memory and has not ended yet
 * (live, waiting for a reconnect, or interrupted). Ownership is read from the store, since a
 * LiveStream does not know its owner. Runs off the request: failures are logged, never thrown.
 */
export function endCreatorStreams(creatorId: string, streams: CascadeStreams, store: Pick<Store, 'getStream'>, log: Logger): Promise<string[]> {
  return (async () => {
    const ended: string[] = [];
    for (const s of streams.all()) {
      if (s.state !== 'ended' && (await store.getStream(s.id))?.ownerId === creatorId) {
        streams.end(s.id, 'creator disabled');
        ended.push(s.id);
      }
    }
    return ended;
  })().catch((err: unknown) => {
    log.error({ err, creatorId }, 'ending a disabled creator\'s streams failed');
    return [];
  });
}
