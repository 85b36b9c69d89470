import type pg from 'pg';
import { STREAM_COLUMNS, pageSize, streamFromRow, type StreamRow } from './records.js';
import { followPage, followerBatch, type FollowRow } from './journey-records.js';
import { decodeStreamCursor } from './stream-cursor.js';
import type { PgCallWrappers } from './pg-room.js';
import type { JourneyStore } from './types.js';

const S = STREAM_COLUMNS.join(', ');
const F = 'creator_id, shopper_id, created_at';

/** The journey's methods of the PostgreSQL store (discovery, followers). */
export function pgJourneyMethods(pool: pg.Pool, { run, writeOne }: PgCallWrappers): JourneyStore {
  return {
    listDiscoverable: (o) => run(async () => {
      const n = pageSize(o.limit);
      const [live, upcoming] = await Promise.all([
        pool.query<StreamRow>(`SELECT ${S} FROM streams WHERE state = 'live' AND NOT practice ORDER BY started_at DESC, id DESC LIMIT $1`, [n]),
        pool.query<StreamRow>(`SELECT ${S} FROM streams WHERE state = 'idle' AND NOT practice AND scheduled_at >= $1 ORDER BY scheduled_at, id LIMIT $2`, [o.scheduledSince, n]),
      ]);
      return { live: live.rows.map(streamFromRow), upcoming: upcoming.rows.map(streamFromRow) };
    }),
    follow: (creatorId, shopperId, at) => run(async () =>
      (await writeOne<{ creator_id: string }>(pool, `INSERT INTO followers (${F}) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING creator_id`, [creatorId, shopperId, at])) !== undefined),
    unfollow: (creatorId, shopperId) => run(async () =>
      ((await pool.query('DELETE FROM followers WHERE creator_id = $1 AND shopper_id = $2', [creatorId, shopperId])).rowCount ?? 0) > 0),
    followerCount: (creatorId) => run(async () => (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM followers WHERE creator_id = $1', [creatorId])).rows[0]!.n),
    listFollowing: (shopperId, o) => run(async () => {
      const take = pageSize(o.limit);
      const after = o.cursor ? decodeStreamCursor(o.cursor) : undefined;
      const res = after
        ? await pool.query<FollowRow>(`SELECT ${F} FROM followers WHERE shopper_id = $1 AND (created_at, creator_id) < ($2, $3) ORDER BY created_at DESC, creator_id DESC LIMIT $4`,
          [shopperId, after.createdAt, after.id, take + 1])
        : await pool.query<FollowRow>(`SELECT ${F} FROM followers WHERE shopper_id = $1 ORDER BY created_at DESC, creator_id DESC LIMIT $2`, [shopperId, take + 1]);
      return followPage(res.rows, take);
    }),
    listFollowers: (creatorId, o) => run(async () =>
      (await pool.query<{ shopper_id: string }>('SELECT shopper_id FROM followers WHERE creator_id = $1 AND shopper_id COLLATE "C" > $2 ORDER BY shopper_id COLLATE "C" LIMIT $3',
        [creatorId, o.after ?? '', followerBatch(o.limit)])).rows.map((r) => r.shopper_id)),
  };
}
