import type { Database } from 'better-sqlite3';
import { STREAM_COLUMNS, pageSize, streamFromRow, type StreamRow } from './records.js';
import { followPage, followerBatch, type FollowRow } from './journey-records.js';
import { decodeStreamCursor } from './stream-cursor.js';
import type { SqliteCallWrappers } from './sqlite-room.js';
import type { JourneyStore } from './types.js';

type RawStream = Omit<StreamRow, 'extra' | 'practice'> & { extra: string; practice: number };

const S = STREAM_COLUMNS.join(', ');
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
  };
  return {
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
