import type { PoolClient } from 'pg';
import type { Logger } from '../core/logger.js';
import { StoreError } from './store-error.js';

/** One forward-only PostgreSQL schema step. */
export interface PgMigration {
  version: number;
  description: string;
  sql: string;
}

/**
 * Every PostgreSQL schema step, oldest first; append only, like the SQLite list (its own numbering:
 * PostgreSQL started at the schema SQLite reached in its version 2). Timestamps are bigint
 * milliseconds since the epoch; ids sort with the "C" collation so pages come in the same order as
 * SQLite's byte-wise comparison, whatever the database's locale.
 */
export const PG_MIGRATIONS: readonly PgMigration[] = Object.freeze([
  {
    version: 1,
    description: 'creators, streams with leases, recordings, analytics',
    sql: `
      CREATE TABLE creators (
        id            text COLLATE "C" PRIMARY KEY,
        handle        text NOT NULL UNIQUE,
        display_name  text NOT NULL,
        token_hash    text NOT NULL UNIQUE,
        disabled      boolean NOT NULL DEFAULT false,
        created_at    bigint NOT NULL
      );

      CREATE TABLE streams (
        id                 text COLLATE "C" PRIMARY KEY,
        owner_id           text COLLATE "C" REFERENCES creators(id) ON DELETE RESTRICT,
        title              text NOT NULL,
        description        text NOT NULL DEFAULT '',
        stream_key_hash    text NOT NULL UNIQUE,
        stream_key_prefix  text NOT NULL,
        state              text NOT NULL CHECK (state IN ('idle', 'live', 'interrupted', 'ended')),
        created_at         bigint NOT NULL,
        started_at         bigint,
        ended_at           bigint,
        end_reason         text,
        extra              jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra) = 'object'),
        lease_node_id      text,
        lease_expires_at   bigint
      );
      CREATE INDEX streams_by_created ON streams (created_at DESC, id DESC);
      CREATE INDEX streams_by_owner_created ON streams (owner_id, created_at DESC, id DESC);
      CREATE INDEX streams_by_state ON streams (state);

      CREATE TABLE recordings (
        stream_id         text COLLATE "C" PRIMARY KEY REFERENCES streams(id) ON DELETE CASCADE,
        state             text NOT NULL CHECK (state IN ('recording', 'stopped', 'processing', 'ready', 'failed', 'expired')),
        started_at        bigint,
        renditions        text[],
        mp4_rendition     text,
        duration_seconds  double precision,
        size_bytes        bigint,
        segments          integer,
        discontinuities   integer,
        code              text,
        reason            text,
        ready_at          bigint,
        finalize_ms       bigint,
        expired_at        bigint,
        updated_at        bigint NOT NULL
      );

      CREATE TABLE stream_analytics (
        stream_id             text COLLATE "C" PRIMARY KEY REFERENCES streams(id) ON DELETE CASCADE,
        watch_seconds_live    double precision NOT NULL,
        watch_seconds_replay  double precision NOT NULL,
        watch_seconds_hls     double precision NOT NULL,
        watch_seconds_webrtc  double precision NOT NULL,
        unique_viewers        integer NOT NULL,
        unique_sketch         text,
        peak_viewers          integer NOT NULL,
        updated_at            bigint NOT NULL
      );

      CREATE TABLE stream_analytics_minutes (
        stream_id               text COLLATE "C" NOT NULL REFERENCES stream_analytics(stream_id) ON DELETE CASCADE,
        start_ms                bigint NOT NULL,
        viewers_avg             double precision NOT NULL,
        viewers_peak            integer NOT NULL,
        watch_seconds           double precision NOT NULL,
        ingest_bits_per_second  double precision,
        PRIMARY KEY (stream_id, start_ms)
      );
    `,
  },
  {
    version: 2,
    description: 'the room: shoppers and chat messages (issue 14)',
    sql: `
      CREATE TABLE shoppers (
        id            text COLLATE "C" PRIMARY KEY,
        display_name  text NOT NULL,
        token_hash    text NOT NULL UNIQUE,
        created_at    bigint NOT NULL
      );

      CREATE TABLE room_messages (
        id           text COLLATE "C" PRIMARY KEY,
        stream_id    text COLLATE "C" NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
        author_id    text COLLATE "C" NOT NULL,
        author_role  text NOT NULL CHECK (author_role IN ('shopper', 'host', 'operator')),
        author_name  text NOT NULL,
        text         text NOT NULL,
        at           bigint NOT NULL,
        media_time   bigint NOT NULL,
        deleted_at   bigint
      );
      CREATE INDEX room_messages_by_stream_media ON room_messages (stream_id, media_time, id);
      CREATE INDEX room_messages_by_author ON room_messages (author_id);
    `,
  },
  {
    version: 3,
    description: 'the creator\'s journey: scheduled and practice streams, followers (issue 15)',
    sql: `
      ALTER TABLE streams ADD COLUMN scheduled_at bigint;
      ALTER TABLE streams ADD COLUMN practice boolean NOT NULL DEFAULT false;
      CREATE INDEX streams_discoverable ON streams (state, practice, scheduled_at);

      CREATE TABLE followers (
        creator_id  text NOT NULL REFERENCES creators(id) ON DELETE CASCADE,
        shopper_id  text NOT NULL REFERENCES shoppers(id) ON DELETE CASCADE,
        created_at  bigint NOT NULL,
        PRIMARY KEY (creator_id, shopper_id)
      );
      CREATE INDEX followers_by_shopper ON followers (shopper_id, created_at, creator_id);
    `,
  },
  {
    version: 4,
    description: 'commerce: carousel products and highlights (issue 13)',
    sql: `
      CREATE TABLE products (
        id              text COLLATE "C" PRIMARY KEY,
        stream_id       text COLLATE "C" NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
        position        integer NOT NULL CHECK (position >= 0),
        title           text NOT NULL,
        url             text NOT NULL,
        image_url       text,
        price_amount    text,
        price_currency  text,
        ref             text,
        description     text,
        created_at      bigint NOT NULL,
        updated_at      bigint NOT NULL,
        CHECK ((price_amount IS NULL) = (price_currency IS NULL))
      );
      CREATE INDEX products_by_stream ON products (stream_id, position);

      CREATE TABLE highlights (
        id          text COLLATE "C" PRIMARY KEY,
        stream_id   text COLLATE "C" NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
        product_id  text COLLATE "C" NOT NULL,
        start_date  bigint NOT NULL,
        end_date    bigint CHECK (end_date IS NULL OR end_date >= start_date),
        media_time  double precision NOT NULL,
        created_at  bigint NOT NULL
      );
      CREATE INDEX highlights_by_stream ON highlights (stream_id, start_date);
    `,
  },
  {
    version: 5,
    description: 'commerce: creators\' tracking tags and product clicks (issue 13)',
    sql: `
      CREATE TABLE creator_commerce (
        creator_id    text COLLATE "C" PRIMARY KEY REFERENCES creators(id) ON DELETE CASCADE,
        tracking_tag  text
      );

      CREATE TABLE clicks (
        id          bigserial PRIMARY KEY,
        stream_id   text COLLATE "C" NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
        product_id  text COLLATE "C" NOT NULL,
        session_id  text,
        media_time  double precision,
        at          bigint NOT NULL
      );
      CREATE INDEX clicks_by_stream ON clicks (stream_id, at);
    `,
  },
  {
    version: 6,
    description: 'commerce: conversions (idempotent on order id) and promo codes (issue 13)',
    sql: `
      CREATE TABLE conversions (
        order_id       text COLLATE "C" PRIMARY KEY,
        stream_id      text COLLATE "C" NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
        creator_id     text,
        product_id     text,
        promo_code     text,
        amount_units   bigint NOT NULL CHECK (amount_units >= 0),
        currency       text NOT NULL,
        occurred_at    bigint NOT NULL,
        received_at    bigint NOT NULL
      );
      CREATE INDEX conversions_by_stream ON conversions (stream_id, occurred_at);

      CREATE TABLE promos (
        id           text COLLATE "C" PRIMARY KEY,
        stream_id    text COLLATE "C" NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
        code         text NOT NULL,
        description  text NOT NULL,
        live_only    boolean NOT NULL,
        starts_at    bigint,
        ends_at      bigint,
        created_at   bigint NOT NULL,
        UNIQUE (stream_id, code)
      );
    `,
  },
  {
    version: 7,
    description: 'room moderation: bans, blocked words, per-minute counts (issue 14)',
    sql: `
      CREATE TABLE room_bans (
        id          text COLLATE "C" PRIMARY KEY,
        shopper_id  text COLLATE "C" NOT NULL REFERENCES shoppers(id) ON DELETE CASCADE,
        stream_id   text COLLATE "C" REFERENCES streams(id) ON DELETE CASCADE,
        creator_id  text COLLATE "C" REFERENCES creators(id) ON DELETE CASCADE,
        until       bigint,
        created_at  bigint NOT NULL,
        issued_by   text NOT NULL,
        CHECK ((stream_id IS NULL) <> (creator_id IS NULL))
      );
      CREATE INDEX room_bans_by_stream ON room_bans (stream_id, shopper_id);
      CREATE INDEX room_bans_by_creator ON room_bans (creator_id, shopper_id);

      CREATE TABLE room_blocked_words (
        creator_id  text COLLATE "C" PRIMARY KEY REFERENCES creators(id) ON DELETE CASCADE,
        words       text NOT NULL,
        updated_at  bigint NOT NULL
      );

      CREATE TABLE room_minutes (
        stream_id  text COLLATE "C" NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
        start_ms   bigint NOT NULL,
        messages   integer NOT NULL,
        reactions  integer NOT NULL,
        PRIMARY KEY (stream_id, start_ms)
      );
    `,
  },
  {
    version: 8,
    description: 'commerce: promo code reveals and per-stream settings (issue 13)',
    sql: `
      CREATE TABLE promo_reveals (
        id          bigserial PRIMARY KEY,
        stream_id   text COLLATE "C" NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
        code        text COLLATE "C" NOT NULL,
        session_id  text COLLATE "C",
        at          bigint NOT NULL
      );
      CREATE UNIQUE INDEX promo_reveals_once ON promo_reveals (stream_id, code, session_id);

      CREATE TABLE stream_commerce (
        stream_id         text COLLATE "C" PRIMARY KEY REFERENCES streams(id) ON DELETE CASCADE,
        show_sold_counts  boolean NOT NULL
      );
    `,
  },
  {
    version: 9,
    description: 'notifications: push subscriptions and the outbox (issue 15)',
    sql: `
      CREATE TABLE push_subscriptions (
        id          text PRIMARY KEY,
        shopper_id  text NOT NULL REFERENCES shoppers(id) ON DELETE CASCADE,
        endpoint    text NOT NULL UNIQUE,
        p256dh      text NOT NULL,
        auth        text NOT NULL,
        created_at  bigint NOT NULL
      );
      CREATE INDEX push_subscriptions_by_shopper ON push_subscriptions ((shopper_id COLLATE "C"), (id COLLATE "C"));

      CREATE TABLE outbox (
        id               text PRIMARY KEY,
        kind             text NOT NULL CHECK (kind IN ('webhook', 'push-fanout', 'push')),
        target           text NOT NULL,
        event_type       text NOT NULL,
        payload          text NOT NULL,
        state            text NOT NULL CHECK (state IN ('pending', 'done', 'dead')),
        attempts         integer NOT NULL,
        next_attempt_at  bigint NOT NULL,
        lease_owner      text,
        lease_expires_at bigint,
        cursor           text,
        last_error       text,
        created_at       bigint NOT NULL,
        updated_at       bigint NOT NULL
      );
      CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
      CREATE INDEX outbox_by_lease ON outbox (lease_owner) WHERE lease_owner IS NOT NULL;
    `,
  },
  {
    version: 10,
    description: 'discovery: products by ref, for product placements (issue 15)',
    sql: `
      -- GET /v1/products/:ref/streams: the streams whose carousel holds a product with that ref.
      CREATE INDEX IF NOT EXISTS products_by_ref ON products (ref, stream_id, position);
    `,
  },
  {
    version: 11,
    description: 'analytics: unique viewers of the replay (issue 15)',
    sql: `
      -- Unique viewers of the replay and their HyperLogLog, base64 (NULL: nobody watched a replay).
      ALTER TABLE stream_analytics ADD COLUMN replay_unique_viewers integer;
      ALTER TABLE stream_analytics ADD COLUMN replay_sketch text;
    `,
  },
]);

/** The PostgreSQL schema version this build writes and the newest it can read. */
export const PG_LATEST_SCHEMA_VERSION: number = PG_MIGRATIONS.length;

/** An arbitrary constant: the advisory lock every Showcase node takes while migrating. */
const MIGRATION_LOCK = 0x5c0a5e;

/**
 * Brings the database up to PG_LATEST_SCHEMA_VERSION in one transaction under an advisory lock,
 * so nodes starting together migrate once (the others wait, then find nothing to do). Returns the
 * version after; throws StoreError TOO_NEW for a database written by a newer build, touching nothing.
 */
export async function migratePg(client: PoolClient, where: string, logger?: Logger, list: readonly PgMigration[] = PG_MIGRATIONS): Promise<number> {
  list.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`pg migration #${i} has version ${m.version}, expected ${i + 1}`);
  });
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS showcase_schema_migrations (
      version integer PRIMARY KEY, description text NOT NULL, applied_at bigint NOT NULL)`);
    const res = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM showcase_schema_migrations');
    const current = res.rows[0]?.v ?? 0;
    if (current > list.length) {
      throw new StoreError('SHOWCASE_ERR_STORE_TOO_NEW', where,
        `store ${where} is at schema version ${current}, newer than this build knows (${list.length}): run a newer Showcase or restore a backup`);
    }
    for (const m of list) {
      if (m.version <= current) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO showcase_schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)', [m.version, m.description, Date.now()]);
      logger?.info({ store: where, version: m.version, migration: m.description }, 'store migration applied');
    }
    await client.query('COMMIT');
    return Math.max(current, list.length);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
