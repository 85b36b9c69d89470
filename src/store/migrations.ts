import type { Database } from 'better-sqlite3';
import type { Logger } from '../core/logger.js';
import { StoreError } from './store-error.js';

/** One forward-only schema step; `version` is the PRAGMA user_version the file has after it. */
export interface Migration {
  version: number;
  description: string;
  /** SQL run inside the migration transaction (may hold several statements). */
  sql: string;
}

/**
 * Every schema step, oldest first. Append only: never edit or reorder a released entry (files in
 * the field are already at its version); fix mistakes with a new step.
 * Timestamps are integer milliseconds since the epoch. Tables are STRICT so a wrong type fails
 * loudly instead of being stored silently.
 */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    description: 'creators and streams',
    sql: `
      CREATE TABLE creators (
        id            TEXT PRIMARY KEY NOT NULL,
        handle        TEXT NOT NULL UNIQUE,
        display_name  TEXT NOT NULL,
        token_hash    TEXT NOT NULL UNIQUE,
        disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
        created_at    INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE streams (
        id                 TEXT PRIMARY KEY NOT NULL,
        owner_id           TEXT REFERENCES creators(id) ON DELETE RESTRICT,
        title              TEXT NOT NULL,
        description        TEXT NOT NULL DEFAULT '',
        stream_key_hash    TEXT NOT NULL UNIQUE,
        stream_key_prefix  TEXT NOT NULL,
        state              TEXT NOT NULL CHECK (state IN ('idle', 'live', 'ended')),
        created_at         INTEGER NOT NULL,
        started_at         INTEGER,
        ended_at           INTEGER,
        end_reason         TEXT,
        extra              TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(extra) AND json_type(extra) = 'object')
      ) STRICT;

      -- UNIQUE above already indexes handle, token_hash and stream_key_hash.
      CREATE INDEX streams_by_created ON streams (created_at DESC, id DESC);
      CREATE INDEX streams_by_owner_created ON streams (owner_id, created_at DESC, id DESC);
      CREATE INDEX streams_by_state ON streams (state);
    `,
  },
  {
    version: 2,
    description: "stream state 'interrupted' (a deploy stopped the stream; the next process continues it)",
    // SQLite cannot alter a CHECK constraint: rebuild the table (nothing references streams) and
    // its indexes, inside the migration's transaction.
    sql: `
      CREATE TABLE streams_v2 (
        id                 TEXT PRIMARY KEY NOT NULL,
        owner_id           TEXT REFERENCES creators(id) ON DELETE RESTRICT,
        title              TEXT NOT NULL,
        description        TEXT NOT NULL DEFAULT '',
        stream_key_hash    TEXT NOT NULL UNIQUE,
        stream_key_prefix  TEXT NOT NULL,
        state              TEXT NOT NULL CHECK (state IN ('idle', 'live', 'interrupted', 'ended')),
        created_at         INTEGER NOT NULL,
        started_at         INTEGER,
        ended_at           INTEGER,
        end_reason         TEXT,
        extra              TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(extra) AND json_type(extra) = 'object')
      ) STRICT;
      INSERT INTO streams_v2 (id, owner_id, title, description, stream_key_hash, stream_key_prefix, state, created_at, started_at, ended_at, end_reason, extra)
        SELECT id, owner_id, title, description, stream_key_hash, stream_key_prefix, state, created_at, started_at, ended_at, end_reason, extra FROM streams;
      DROP TABLE streams;
      ALTER TABLE streams_v2 RENAME TO streams;
      CREATE INDEX streams_by_created ON streams (created_at DESC, id DESC);
      CREATE INDEX streams_by_owner_created ON streams (owner_id, created_at DESC, id DESC);
      CREATE INDEX streams_by_state ON streams (state);
    `,
  },
  {
    version: 3,
    description: 'stream leases; recordings and analytics tables (moved out of streams.extra)',
    sql: `
      -- The node serving a live stream and until when (see LeaseStore in types.ts).
      ALTER TABLE streams ADD COLUMN lease_node_id TEXT;
      ALTER TABLE streams ADD COLUMN lease_expires_at INTEGER;

      CREATE TABLE recordings (
        stream_id         TEXT PRIMARY KEY NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
        state             TEXT NOT NULL CHECK (state IN ('recording', 'stopped', 'processing', 'ready', 'failed', 'expired')),
        started_at        INTEGER,
        renditions        TEXT CHECK (renditions IS NULL OR (json_valid(renditions) AND json_type(renditions) = 'array')),
        mp4_rendition     TEXT,
        duration_seconds  REAL,
        size_bytes        INTEGER,
        segments          INTEGER,
        discontinuities   INTEGER,
        code              TEXT,
        reason            TEXT,
        ready_at          INTEGER,
        finalize_ms       INTEGER,
        expired_at        INTEGER,
        updated_at        INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE stream_analytics (
        stream_id             TEXT PRIMARY KEY NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
        watch_seconds_live    REAL NOT NULL,
        watch_seconds_replay  REAL NOT NULL,
        watch_seconds_hls     REAL NOT NULL,
        watch_seconds_webrtc  REAL NOT NULL,
        unique_viewers        INTEGER NOT NULL,
        -- HyperLogLog registers, base64 (as the API and merges use them).
        unique_sketch         TEXT,
        peak_viewers          INTEGER NOT NULL,
        updated_at            INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE stream_analytics_minutes (
        stream_id               TEXT NOT NULL REFERENCES stream_analytics(stream_id) ON DELETE CASCADE,
        start_ms                INTEGER NOT NULL,
        viewers_avg             REAL NOT NULL,
        viewers_peak            INTEGER NOT NULL,
        watch_seconds           REAL NOT NULL,
        ingest_bits_per_second  REAL,
        PRIMARY KEY (stream_id, start_ms)
      ) STRICT, WITHOUT ROWID;

      -- Existing data: extra.recording and extra.analytics become rows, then leave extra. CASTs
      -- because the tables are STRICT and JSON numbers may come back as either INTEGER or REAL.
      INSERT INTO recordings (stream_id, state, started_at, renditions, mp4_rendition, duration_seconds, size_bytes, segments,
        discontinuities, code, reason, ready_at, finalize_ms, expired_at, updated_at)
      SELECT id,
        json_extract(extra, '$.recording.state'),
        CAST(json_extract(extra, '$.recording.startedAt') AS INTEGER),
        CASE WHEN json_type(extra, '$.recording.renditions') = 'array' THEN json_extract(extra, '$.recording.renditions') END,
        CAST(json_extract(extra, '$.recording.mp4Rendition') AS TEXT),
        CAST(json_extract(extra, '$.recording.durationSeconds') AS REAL),
        CAST(json_extract(extra, '$.recording.sizeBytes') AS INTEGER),
        CAST(json_extract(extra, '$.recording.segments') AS INTEGER),
        CAST(json_extract(extra, '$.recording.discontinuities') AS INTEGER),
        CAST(json_extract(extra, '$.recording.code') AS TEXT),
        CAST(json_extract(extra, '$.recording.reason') AS TEXT),
        CAST(json_extract(extra, '$.recording.readyAt') AS INTEGER),
        CAST(json_extract(extra, '$.recording.finalizeMs') AS INTEGER),
        CAST(json_extract(extra, '$.recording.expiredAt') AS INTEGER),
        COALESCE(CAST(json_extract(extra, '$.recording.updatedAt') AS INTEGER), 0)
      FROM streams
      WHERE json_type(extra, '$.recording') = 'object'
        AND json_extract(extra, '$.recording.state') IN ('recording', 'stopped', 'processing', 'ready', 'failed', 'expired');

      INSERT INTO stream_analytics (stream_id, watch_seconds_live, watch_seconds_replay, watch_seconds_hls, watch_seconds_webrtc,
        unique_viewers, unique_sketch, peak_viewers, updated_at)
      SELECT id,
        COALESCE(CAST(json_extract(extra, '$.analytics.watchSecondsLive') AS REAL), 0),
        COALESCE(CAST(json_extract(extra, '$.analytics.watchSecondsReplay') AS REAL), 0),
        COALESCE(CAST(json_extract(extra, '$.analytics.watchSecondsByProtocol.hls') AS REAL), 0),
        COALESCE(CAST(json_extract(extra, '$.analytics.watchSecondsByProtocol.webrtc') AS REAL), 0),
        COALESCE(CAST(json_extract(extra, '$.analytics.uniqueViewers') AS INTEGER), 0),
        CASE WHEN json_type(extra, '$.analytics.uniqueSketch') = 'text' THEN json_extract(extra, '$.analytics.uniqueSketch') END,
        COALESCE(CAST(json_extract(extra, '$.analytics.peakViewers') AS INTEGER), 0),
        COALESCE(CAST(json_extract(extra, '$.analytics.updatedAt') AS INTEGER), 0)
      FROM streams
      WHERE json_type(extra, '$.analytics') = 'object';

      INSERT OR IGNORE INTO stream_analytics_minutes (stream_id, start_ms, viewers_avg, viewers_peak, watch_seconds, ingest_bits_per_second)
      SELECT s.id,
        CAST(json_extract(m.value, '$.startMs') AS INTEGER),
        COALESCE(CAST(json_extract(m.value, '$.viewersAvg') AS REAL), 0),
        COALESCE(CAST(json_extract(m.value, '$.viewersPeak') AS INTEGER), 0),
        COALESCE(CAST(json_extract(m.value, '$.watchSeconds') AS REAL), 0),
        CAST(json_extract(m.value, '$.ingestBitsPerSecond') AS REAL)
      FROM streams s, json_each(s.extra, '$.analytics.timeline') m
      WHERE json_type(s.extra, '$.analytics') = 'object' AND json_type(s.extra, '$.analytics.timeline') = 'array'
        AND json_type(m.value, '$.startMs') IN ('integer', 'real');

      UPDATE streams SET extra = json_remove(extra, '$.recording', '$.analytics')
      WHERE json_type(extra, '$.recording') IS NOT NULL OR json_type(extra, '$.analytics') IS NOT NULL;
    `,
  },
  {
    version: 4,
    description: 'the room: shoppers and chat messages (issue 14)',
    sql: `
      CREATE TABLE shoppers (
        id            TEXT PRIMARY KEY NOT NULL,
        display_name  TEXT NOT NULL,
        token_hash    TEXT NOT NULL UNIQUE,
        created_at    INTEGER NOT NULL
      ) STRICT;

      -- author_id is no foreign key: hosts and the operator write too. Deleting a shopper deletes
      -- their rows explicitly (deleteShopper); deleting a stream cascades.
      CREATE TABLE room_messages (
        id           TEXT PRIMARY KEY NOT NULL,
        stream_id    TEXT NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
        author_id    TEXT NOT NULL,
        author_role  TEXT NOT NULL CHECK (author_role IN ('shopper', 'host', 'operator')),
        author_name  TEXT NOT NULL,
        text         TEXT NOT NULL,
        at           INTEGER NOT NULL,
        media_time   INTEGER NOT NULL,
        deleted_at   INTEGER
      ) STRICT;
      CREATE INDEX room_messages_by_stream_media ON room_messages (stream_id, media_time, id);
      CREATE INDEX room_messages_by_author ON room_messages (author_id);
    `,
  },
  {
    version: 5,
    description: 'the creator\'s journey: scheduled and practice streams, followers (issue 15)',
    sql: `
      ALTER TABLE streams ADD COLUMN scheduled_at INTEGER;
      ALTER TABLE streams ADD COLUMN practice INTEGER NOT NULL DEFAULT 0 CHECK (practice IN (0, 1));
      -- GET /v1/live: live and upcoming public streams.
      CREATE INDEX streams_discoverable ON streams (state, practice, scheduled_at);

      CREATE TABLE followers (
        creator_id  TEXT NOT NULL REFERENCES creators(id) ON DELETE CASCADE,
        shopper_id  TEXT NOT NULL REFERENCES shoppers(id) ON DELETE CASCADE,
        created_at  INTEGER NOT NULL,
        PRIMARY KEY (creator_id, shopper_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX followers_by_shopper ON followers (shopper_id, created_at, creator_id);
    `,
  },
  {
    version: 6,
    description: 'commerce: carousel products and highlights (issue 13)',
    sql: `
      CREATE TABLE products (
        id              TEXT PRIMARY KEY NOT NULL,
        stream_id       TEXT NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
        position        INTEGER NOT NULL CHECK (position >= 0),
        title           TEXT NOT NULL,
        url             TEXT NOT NULL,
        image_url       TEXT,
        price_amount    TEXT,
        price_currency  TEXT,
        ref             TEXT,
        description     TEXT,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL,
        CHECK ((price_amount IS NULL) = (price_currency IS NULL))
      ) STRICT;
      CREATE INDEX products_by_stream ON products (stream_id, position);

      CREATE TABLE highlights (
        id          TEXT PRIMARY KEY NOT NULL,
        stream_id   TEXT NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
        -- No foreign key: a product deleted while highlighted stays in the timeline's history.
        product_id  TEXT NOT NULL,
        start_date  INTEGER NOT NULL,
        end_date    INTEGER CHECK (end_date IS NULL OR end_date >= start_date),
        media_time  REAL NOT NULL,
        created_at  INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX highlights_by_stream ON highlights (stream_id, start_date);
    `,
  },
  {
    version: 7,
    description: 'commerce: creators\' tracking tags and product clicks (issue 13)',
    sql: `
      CREATE TABLE creator_commerce (
        creator_id    TEXT PRIMARY KEY NOT NULL REFERENCES creators(id) ON DELETE CASCADE,
        tracking_tag  TEXT
      ) STRICT;

      CREATE TABLE clicks (
        id          INTEGER PRIMARY KEY,
        stream_id   TEXT NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
        product_id  TEXT NOT NULL,
        session_id  TEXT,
        media_time  REAL,
        at          INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX clicks_by_stream ON clicks (stream_id, at);
    `,
  },
  {
    version: 8,
    description: 'commerce: conversions (idempotent on order id) and promo codes (issue 13)',
    sql: `
      CREATE TABLE conversions (
        order_id       TEXT PRIMARY KEY NOT NULL,
        stream_id      TEXT NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
        creator_id     TEXT,
        product_id     TEXT,
        promo_code     TEXT,
        -- Ten-thousandths of the currency unit: exact sums (a decimal string in the API).
        amount_units   INTEGER NOT NULL CHECK (amount_units >= 0),
        currency       TEXT NOT NULL,
        occurred_at    INTEGER NOT NULL,
        received_at    INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX conversions_by_stream ON conversions (stream_id, occurred_at);

      CREATE TABLE promos (
        id           TEXT PRIMARY KEY NOT NULL,
        stream_id    TEXT NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
        code         TEXT NOT NULL,
        description  TEXT NOT NULL,
        live_only    INTEGER NOT NULL CHECK (live_only IN (0, 1)),
        starts_at    INTEGER,
        ends_at      INTEGER,
        created_at   INTEGER NOT NULL,
        UNIQUE (stream_id, code)
      ) STRICT;
    `,
  },
  {
    version: 9,
    description: 'room moderation: bans, blocked words, per-minute counts (issue 14)',
    sql: `
      -- id is scope:scopeId:shopperId, so a second ban in the same scope replaces the first.
      -- Exactly one of stream_id / creator_id is set; each cascades with what it names.
      CREATE TABLE room_bans (
        id          TEXT PRIMARY KEY NOT NULL,
        shopper_id  TEXT NOT NULL REFERENCES shoppers(id) ON DELETE CASCADE,
        stream_id   TEXT REFERENCES streams(id) ON DELETE CASCADE,
        creator_id  TEXT REFERENCES creators(id) ON DELETE CASCADE,
        until       INTEGER,
        created_at  INTEGER NOT NULL,
        issued_by   TEXT NOT NULL,
        CHECK ((stream_id IS NULL) <> (creator_id IS NULL))
      ) STRICT;
      CREATE INDEX room_bans_by_stream ON room_bans (stream_id, shopper_id);
      CREATE INDEX room_bans_by_creator ON room_bans (creator_id, shopper_id);

      CREATE TABLE room_blocked_words (
        creator_id  TEXT PRIMARY KEY NOT NULL REFERENCES creators(id) ON DELETE CASCADE,
        words       TEXT NOT NULL,
        updated_at  INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE room_minutes (
        stream_id  TEXT NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
        start_ms   INTEGER NOT NULL,
        messages   INTEGER NOT NULL,
        reactions  INTEGER NOT NULL,
        PRIMARY KEY (stream_id, start_ms)
      ) STRICT;
    `,
  },
  {
    version: 10,
    description: 'commerce: promo code reveals and per-stream settings (issue 13)',
    sql: `
      CREATE TABLE promo_reveals (
        id          INTEGER PRIMARY KEY,
        stream_id   TEXT NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
        code        TEXT NOT NULL,
        session_id  TEXT,
        at          INTEGER NOT NULL
      ) STRICT;
      -- A viewer session's reveal of a code counts once (NULL sessions are distinct: each counts).
      CREATE UNIQUE INDEX promo_reveals_once ON promo_reveals (stream_id, code, session_id);

      CREATE TABLE stream_commerce (
        stream_id         TEXT PRIMARY KEY NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
        show_sold_counts  INTEGER NOT NULL CHECK (show_sold_counts IN (0, 1))
      ) STRICT;
    `,
  },
  {
    version: 11,
    description: 'notifications: push subscriptions and the outbox (issue 15)',
    sql: `
      CREATE TABLE push_subscriptions (
        id          TEXT PRIMARY KEY NOT NULL,
        shopper_id  TEXT NOT NULL REFERENCES shoppers(id) ON DELETE CASCADE,
        endpoint    TEXT NOT NULL UNIQUE,
        p256dh      TEXT NOT NULL,
        auth        TEXT NOT NULL,
        created_at  INTEGER NOT NULL
      ) STRICT;
      -- The go-live fan-out joins followers to this in (shopper_id, id) order.
      CREATE INDEX push_subscriptions_by_shopper ON push_subscriptions (shopper_id, id);

      -- Webhook deliveries, push fan-out jobs and push retries; a row is leased to one node at a time.
      CREATE TABLE outbox (
        id               TEXT PRIMARY KEY NOT NULL,
        kind             TEXT NOT NULL CHECK (kind IN ('webhook', 'push-fanout', 'push')),
        target           TEXT NOT NULL,
        event_type       TEXT NOT NULL,
        payload          TEXT NOT NULL,
        state            TEXT NOT NULL CHECK (state IN ('pending', 'done', 'dead')),
        attempts         INTEGER NOT NULL,
        next_attempt_at  INTEGER NOT NULL,
        lease_owner      TEXT,
        lease_expires_at INTEGER,
        cursor           TEXT,
        last_error       TEXT,
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
      CREATE INDEX outbox_by_lease ON outbox (lease_owner) WHERE lease_owner IS NOT NULL;
    `,
  },
  {
    version: 12,
    description: 'discovery: products by ref, for product placements (issue 15)',
    sql: `
      -- GET /v1/products/:ref/streams: the streams whose carousel holds a product with that ref.
      CREATE INDEX IF NOT EXISTS products_by_ref ON products (ref, stream_id, position);
    `,
  },
  {
    version: 13,
    description: 'analytics: unique viewers of the replay (issue 15)',
    sql: `
      -- Unique viewers of the replay and their HyperLogLog, base64 (NULL: nobody watched a replay).
      ALTER TABLE stream_analytics ADD COLUMN replay_unique_viewers INTEGER;
      ALTER TABLE stream_analytics ADD COLUMN replay_sketch TEXT;
    `,
  },
]);

/** The schema version this build writes and the newest it can read. */
export const LATEST_SCHEMA_VERSION: number = MIGRATIONS.length === 0 ? 0 : MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Throws unless versions run 1, 2, 3… without gaps (a test calls this; so does migrate). */
export function assertMigrationsOrdered(list: readonly Migration[] = MIGRATIONS): void {
  list.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration #${i} has version ${m.version}, expected ${i + 1}`);
  });
}

/** The file's current PRAGMA user_version. */
export function readSchemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the file up to LATEST_SCHEMA_VERSION in one IMMEDIATE transaction (all steps or none, and a
 * second process starting at the same moment waits rather than migrating twice). Returns the
 * version after. Throws StoreError TOO_NEW for a file written by a newer build, touching nothing.
 */
export function migrate(db: Database, file: string, logger?: Logger, list: readonly Migration[] = MIGRATIONS): number {
  assertMigrationsOrdered(list);
  const latest = list.length;
  const run = db.transaction((): number => {
    const current = readSchemaVersion(db);
    if (current > latest) {
      throw new StoreError(
        'SHOWCASE_ERR_STORE_TOO_NEW',
        file,
        `store ${file} is at schema version ${current}, newer than this build knows (${latest}): run a newer Showcase or restore a backup`,
      );
    }
    for (const m of list) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      // PRAGMA takes no bound parameters; the version is an integer from our own list.
      db.pragma(`user_version = ${m.version}`);
      logger?.info({ file, version: m.version, migration: m.description }, 'store migration applied');
    }
    return readSchemaVersion(db);
  });
  return run.immediate();
}
