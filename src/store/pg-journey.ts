import type pg from 'pg';
import { STREAM_COLUMNS, pageSize, streamFromRow, type StreamRow } from './records.js';
import { PRODUCT_ALIASED, aliasedProductRow, followPage, followerBatch, pastPage, productStreams, type FollowRow } from './journey-records.js';
import { decodeStreamCursor } from './stream-cursor.js';
import type { PgCallWrappers } from './pg-room.js';
import type { JourneyStore } from './types.js';

const S = STREAM_COLUMNS.join(', ');
const SS = STREAM_COLUMNS.map((c) => `s.${c}`).join(', ');
const PUBLIC_PAST = `owner_id = $1 AND state = 'ended' AND NOT practice AND started_at IS NOT NULL`;
const F = 'creator_id, shopper_id, created_at';

/** The journey's methods of the PostgreSQL store (discovery, followers). */
export function pgJourneyMethods(pool: pg.Pool, { run, writeOne }: PgCallWrappers): JourneyStore {
  return {
    listCreatorDiscoverable: (creatorId, o) => run(async () => {
      const n = pageSize(o.limit);
      const [live, upcoming] = await Promise.all([
        pool.query<StreamRow>(`SELECT ${S} FROM streams WHERE owner_id = $1 AND state = 'live' AND NOT practice ORDER BY started_at DESC, id DESC LIMIT $2`, [creatorId, n]),
        pool.query<StreamRow>(`SELECT ${S} FROM streams WHERE owner_id = $1 AND state = 'idle' AND NOT practice AND scheduled_at >= $2 ORDER BY scheduled_at, id LIMIT $3`,
          [creatorId, o.scheduledSince, n]),
      ]);
      return { live: live.rows.map(streamFromRow), upcoming: upcoming.rows.map(streamFromRow) };
    }),
    listCreatorPast: (creatorId, o) => run(async () => {
      const take = pageSize(o.limit);
      const after = o.cursor ? decodeStreamCursor(o.cursor) : undefined;
      const res = after
        ? await pool.query<StreamRow>(`SELECT ${S} FROM streams WHERE ${PUBLIC_PAST} AND (started_at, id) < ($2, $3) ORDER BY started_at DESC, id DESC LIMIT $4`,
          [creatorId, after.createdAt, after.id, take + 1])
        : await pool.query<StreamRow>(`SELECT ${S} FROM streams WHERE ${PUBLIC_PAST} ORDER BY started_at DESC, id DESC LIMIT $2`, [creatorId, take + 1]);
      return pastPage(res.rows.map(streamFromRow), take);
    }),
    listStreamsByProductRef: (ref, o) => run(async () => {
      const take = pageSize(o.limit);
      // The first product of each stream with that ref (index products_by_ref), joined to the stream.
      const res = await pool.query<StreamRow & Record<string, unknown>>(
        `SELECT ${SS}, ${PRODUCT_ALIASED} FROM products p JOIN streams s ON s.id = p.stream_id
         WHERE p.ref = $1 AND p.position < $2 AND NOT s.practice AND (s.state = 'live' OR (s.state = 'ended' AND s.ended_at >= $3))
           AND p.position = (SELECT min(p2.position) FROM products p2 WHERE p2.stream_id = p.stream_id AND p2.ref = p.ref)
         ORDER BY s.state = 'live' DESC, s.started_at DESC, s.id LIMIT $4`, [ref, o.maxPosition, o.endedSince, take]);
      return productStreams(res.rows.map((r) => ({ stream: streamFromRow(r), product: aliasedProductRow(r) })), take);
    }),
    levelActivity: (creatorId, since) => run(async () => {
      const [spans, sales] = await Promise.all([
        pool.query<{ started_at: number; ended_at: number | null }>(
          'SELECT started_at, ended_at FROM streams WHERE owner_id = $1 AND NOT practice AND started_at IS NOT NULL AND (ended_at IS NULL OR ended_at >= $2)', [creatorId, since]),
        pool.query<{ at: number; n: number }>(
          `SELECT (c.occurred_at / 60000) * 60000 AS at, count(*)::int AS n FROM conversions c JOIN streams s ON s.id = c.stream_id
           WHERE s.owner_id = $1 AND NOT s.practice AND c.occurred_at >= $2 GROUP BY 1 ORDER BY 1`, [creatorId, since]),
      ]);
      return { intervals: spans.rows.map((r) => ({ startedAt: r.started_at, endedAt: r.ended_at })), sales: sales.rows.map((r) => ({ at: r.at, count: r.n })) };
    }),
    followersGained: (creatorId, from, to) => run(async () =>
      (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM followers WHERE creator_id = $1 AND created_at >= $2 AND created_at < $3', [creatorId, from, to])).rows[0]!.n),
    isFollowing: (creatorId, shopperId) => run(async () =>
      ((await pool.query('SELECT 1 FROM followers WHERE creator_id = $1 AND shopper_id = $2', [creatorId, shopperId])).rowCount ?? 0) > 0),
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
