import type { Database } from 'better-sqlite3';
import { STREAM_COLUMNS, pageSize, streamFromRow, type StreamRow } from './records.js';
import { PRODUCT_ALIASED, aliasedProductRow, followPage, followerBatch, pastPage, productStreams, type FollowRow } from './journey-records.js';
import { decodeStreamCursor } from './stream-cursor.js';
import type { SqliteCallWrappers } from './sqlite-room.js';
import type { JourneyStore } from './types.js';

type RawStream = Omit<StreamRow, 'extra' | 'practice'> & { extra: string; practice: number };

const S = STREAM_COLUMNS.join(', ');
const SS = STREAM_COLUMNS.map((c) => `s.${c}`).join(', ');
const streamIn = (r: RawStream) => streamFromRow({ ...r, extra: JSON.parse(r.extra) as Record<string, unknown>, practice: r.practice === 1 });

/** The journey's methods of the SQLite store (discovery, followers), statements prepared once. */
export function sqliteJourneyMethods(db: Database, { run, write }: SqliteCallWrappers): JourneyStore {
  const q = {
    live: db.prepare<[number], RawStream>(`SELECT ${S} FROM streams WHERE state = 'live' AND practice = 0 ORDER BY started_at DESC, id DESC LIMIT ?`),
    upcoming: db.prepare<[number, number], RawStream>(
      `SELECT ${S} FROM streams WHERE state = 'idle' AND practice = 0 AND scheduled_at >= ? ORDER BY scheduled_at, id LIMIT ?`),
    follow: db.prepare<[string, string, number]>('INSERT INTO followers (creator_id, shopper_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    unfollow: db.prepare<[string, string]>('DELETE FROM followers WHERE creator_id = ? AND shopper_id = ?'),
    count: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM followers WHERE creator_id = ?'),
    following: db.prepare<[string, number], FollowRow>(
      'SELECT creator_id, shopper_id, created_at FROM followers WHERE shopper_id = ? ORDER BY created_at DESC, creator_id DESC LIMIT ?'),
    followingAfter: db.prepare<[string, number, string, number], FollowRow>(
      `SELECT creator_id, shopper_id, created_at FROM followers WHERE shopper_id = ? AND (created_at, creator_id) < (?, ?)
       ORDER BY created_at DESC, creator_id DESC LIMIT ?`),
    followers: db.prepare<[string, string, number], { shopper_id: string }>(
      'SELECT shopper_id FROM followers WHERE creator_id = ? AND shopper_id > ? ORDER BY shopper_id LIMIT ?'),
    creatorLive: db.prepare<[string, number], RawStream>(`SELECT ${S} FROM streams WHERE owner_id = ? AND state = 'live' AND practice = 0 ORDER BY started_at DESC, id DESC LIMIT ?`),
    creatorUpcoming: db.prepare<[string, number, number], RawStream>(
      `SELECT ${S} FROM streams WHERE owner_id = ? AND state = 'idle' AND practice = 0 AND scheduled_at >= ? ORDER BY scheduled_at, id LIMIT ?`),
    creatorPast: db.prepare<[string, number], RawStream>(
      `SELECT ${S} FROM streams WHERE owner_id = ? AND state = 'ended' AND practice = 0 AND started_at IS NOT NULL ORDER BY started_at DESC, id DESC LIMIT ?`),
    creatorPastAfter: db.prepare<[string, number, string, number], RawStream>(
      `SELECT ${S} FROM streams WHERE owner_id = ? AND state = 'ended' AND practice = 0 AND started_at IS NOT NULL AND (started_at, id) < (?, ?)
       ORDER BY started_at DESC, id DESC LIMIT ?`),
    // The first product of each stream with that ref (index products_by_ref), joined to the stream.
    byRef: db.prepare<[string, number, number, number], RawStream & Record<string, unknown>>(
      `SELECT ${SS}, ${PRODUCT_ALIASED} FROM products p JOIN streams s ON s.id = p.stream_id
       WHERE p.ref = ? AND p.position < ? AND s.practice = 0 AND (s.state = 'live' OR (s.state = 'ended' AND s.ended_at >= ?))
         AND p.position = (SELECT min(p2.position) FROM products p2 WHERE p2.stream_id = p.stream_id AND p2.ref = p.ref)
       ORDER BY s.state = 'live' DESC, s.started_at DESC, s.id LIMIT ?`),
    activity: db.prepare<[string, number], { started_at: number; ended_at: number | null }>(
      'SELECT started_at, ended_at FROM streams WHERE owner_id = ? AND practice = 0 AND started_at IS NOT NULL AND (ended_at IS NULL OR ended_at >= ?)'),
    sales: db.prepare<[string, number], { at: number; n: number }>(
      `SELECT (c.occurred_at / 60000) * 60000 AS at, count(*) AS n FROM conversions c JOIN streams s ON s.id = c.stream_id
       WHERE s.owner_id = ? AND s.practice = 0 AND c.occurred_at >= ? GROUP BY at ORDER BY at`),
    isFollowing: db.prepare<[string, string], { n: number }>('SELECT count(*) AS n FROM followers WHERE creator_id = ? AND shopper_id = ?'),
    gained: db.prepare<[string, number, number], { n: number }>('SELECT count(*) AS n FROM followers WHERE creator_id = ? AND created_at >= ? AND created_at < ?'),
  };
  return {
    listCreatorDiscoverable: (creatorId, o) => run(() => {
      const n = pageSize(o.limit);
      return { live: q.creatorLive.all(creatorId, n).map(streamIn), upcoming: q.creatorUpcoming.all(creatorId, o.scheduledSince, n).map(streamIn) };
    }),
    listCreatorPast: (creatorId, o) => run(() => {
      const take = pageSize(o.limit);
      const after = o.cursor ? decodeStreamCursor(o.cursor) : undefined;
      const rows = after ? q.creatorPastAfter.all(creatorId, after.createdAt, after.id, take + 1) : q.creatorPast.all(creatorId, take + 1);
      return pastPage(rows.map(streamIn), take);
    }),
    listStreamsByProductRef: (ref, o) => run(() => {
      const take = pageSize(o.limit);
      const rows = q.byRef.all(ref, o.maxPosition, o.endedSince, take);
      return productStreams(rows.map((r) => ({ stream: streamIn(r), product: aliasedProductRow(r) })), take);
    }),
    levelActivity: (creatorId, since) => run(() => ({
      intervals: q.activity.all(creatorId, since).map((r) => ({ startedAt: r.started_at, endedAt: r.ended_at })),
      sales: q.sales.all(creatorId, since).map((r) => ({ at: r.at, count: r.n })),
    })),
    followersGained: (creatorId, from, to) => run(() => q.gained.get(creatorId, from, to)!.n),
    isFollowing: (creatorId, shopperId) => run(() => q.isFollowing.get(creatorId, shopperId)!.n > 0),
    listDiscoverable: (o) => run(() => {
      const n = pageSize(o.limit);
      return { live: q.live.all(n).map(streamIn), upcoming: q.upcoming.all(o.scheduledSince, n).map(streamIn) };
    }),
    follow: (creatorId, shopperId, at) => run(() => write(() => q.follow.run(creatorId, shopperId, at)).changes > 0),
    unfollow: (creatorId, shopperId) => run(() => q.unfollow.run(creatorId, shopperId).changes > 0),
    followerCount: (creatorId) => run(() => q.count.get(creatorId)!.n),
    listFollowing: (shopperId, o) => run(() => {
      const take = pageSize(o.limit);
      const after = o.cursor ? decodeStreamCursor(o.cursor) : undefined;
      const rows = after ? q.followingAfter.all(shopperId, after.createdAt, after.id, take + 1) : q.following.all(shopperId, take + 1);
      return followPage(rows, take);
    }),
    listFollowers: (creatorId, o) => run(() => q.followers.all(creatorId, o.after ?? '', followerBatch(o.limit)).map((r) => r.shopper_id)),
  };
}
