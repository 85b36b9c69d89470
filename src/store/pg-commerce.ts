import type pg from 'pg';
import { ShowcaseError } from '../core/errors.js';
import {
  CONVERSION_COLUMNS, PROMO_COLUMNS, conversionFromRow, conversionToRow, promoFromRow, promoToRow, type ConversionRow, type PromoRow,
  HIGHLIGHT_COLUMNS, PRODUCT_COLUMNS, highlightFromRow, highlightToRow, patchedProduct, productFromRow, productToRow, sameIdSet,
  type HighlightRow, type ProductRow,
} from './commerce-records.js';
import { args } from './pg-room.js';
import { DEFAULT_STREAM_COMMERCE, type CommerceStore, type ProductRecord, type StreamCommerceSettings } from './commerce-types.js';

type Queryable = Pick<pg.PoolClient, 'query'>;
const P = PRODUCT_COLUMNS.join(', ');
const H = HIGHLIGHT_COLUMNS.join(', ');

/** What the PostgreSQL store lends its commerce half: its run/tx wrappers and error translation. */
export interface PgCommerceDeps {
  pool: Queryable;
  run: <T>(fn: () => Promise<T>) => Promise<T>;
  tx: <T>(fn: (c: pg.PoolClient) => Promise<T>) => Promise<T>;
  translateWriteError: (err: unknown) => never;
}

/**
 * The commerce half of the PostgreSQL store. Changes to a stream's carousel lock the stream row
 * first (FOR UPDATE), so two nodes adding products at once cannot both pass the per-stream limit
 * or hand out the same position.
 */
export function pgCommerce(d: PgCommerceDeps): CommerceStore {
  const { pool, run, tx } = d;
  const list = async (db: Queryable, streamId: string): Promise<ProductRecord[]> =>
    (await db.query<ProductRow>(`SELECT ${P} FROM products WHERE stream_id = $1 ORDER BY position, id`, [streamId])).rows.map(productFromRow);
  const get = async (db: Queryable, streamId: string, id: string): Promise<ProductRecord | undefined> => {
    const r = (await db.query<ProductRow>(`SELECT ${P} FROM products WHERE stream_id = $1 AND id = $2`, [streamId, id])).rows[0];
    return r ? productFromRow(r) : undefined;
  };
  const lockStream = async (c: Queryable, streamId: string): Promise<boolean> =>
    ((await c.query('SELECT 1 FROM streams WHERE id = $1 FOR UPDATE', [streamId])).rowCount ?? 0) > 0;
  const writeProduct = async (c: Queryable, sql: string, p: ProductRecord): Promise<void> => {
    const row = productToRow(p);
    try {
      await c.query(sql, PRODUCT_COLUMNS.map((k) => row[k]));
    } catch (err) {
      d.translateWriteError(err);
    }
  };

  const settings = async (db: Queryable, streamId: string): Promise<StreamCommerceSettings> => {
    const r = (await db.query<{ show_sold_counts: boolean }>('SELECT show_sold_counts FROM stream_commerce WHERE stream_id = $1', [streamId])).rows[0];
    return r ? { showSoldCounts: r.show_sold_counts } : { ...DEFAULT_STREAM_COMMERCE };
  };

  return {
    createProduct: (rec, max) => run(() => tx(async (c) => {
      if (!(await lockStream(c, rec.streamId))) throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', 'Referenced record does not exist', { constraint: 'foreign key' });
      const n = Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM products WHERE stream_id = $1', [rec.streamId])).rows[0]!.n);
      if (n >= max) throw new ShowcaseError('SHOWCASE_ERR_CONFLICT', `a stream holds at most ${max} products`, { limit: max });
      const full: ProductRecord = { ...rec, position: n };
      await writeProduct(c, `INSERT INTO products (${P}) VALUES (${args(PRODUCT_COLUMNS.length)})`, full);
      return full;
    })),
    listProducts: (streamId) => run(() => list(pool, streamId)),
    getProduct: (streamId, id) => run(() => get(pool, streamId, id)),
    updateProduct: (streamId, id, patch, now) => run(() => tx(async (c) => {
      await lockStream(c, streamId);
      const cur = await get(c, streamId, id);
      if (!cur) return undefined;
      const next = patchedProduct(cur, patch, now);
      const set = PRODUCT_COLUMNS.slice(2).map((k, i) => `${k} = $${i + 3}`).join(', ');
      await writeProduct(c, `UPDATE products SET ${set} WHERE id = $1 AND stream_id = $2`, next);
      return next;
    })),
    deleteProduct: (streamId, id) => run(() => tx(async (c) => {
      await lockStream(c, streamId);
      const cur = await get(c, streamId, id);
      if (!cur) return false;
      await c.query('DELETE FROM products WHERE stream_id = $1 AND id = $2', [streamId, id]);
      await c.query('UPDATE products SET position = position - 1 WHERE stream_id = $1 AND position > $2', [streamId, cur.position]);
      return true;
    })),
    reorderProducts: (streamId, ids, now) => run(() => tx(async (c) => {
      await lockStream(c, streamId);
      const current = (await list(c, streamId)).map((p) => p.id);
      if (!sameIdSet(ids, current)) throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', 'ids must list every product of the stream exactly once', { fields: [{ field: '/ids', message: 'not the stream\'s product ids' }] });
      await c.query(
        `UPDATE products p SET position = v.pos - 1, updated_at = $3 FROM unnest($2::text[]) WITH ORDINALITY AS v(id, pos)
         WHERE p.stream_id = $1 AND p.id = v.id`, [streamId, ids, now]);
      return list(c, streamId);
    })),
    createHighlight: (rec) => run(async () => {
      const row = highlightToRow(rec);
      try {
        await pool.query(`INSERT INTO highlights (${H}) VALUES (${args(HIGHLIGHT_COLUMNS.length)})`, HIGHLIGHT_COLUMNS.map((k) => row[k]));
      } catch (err) {
        d.translateWriteError(err);
      }
      return rec;
    }),
    endHighlight: (streamId, id, endDate) => run(async () =>
      ((await pool.query('UPDATE highlights SET end_date = GREATEST($1::bigint, start_date) WHERE stream_id = $2 AND id = $3 AND end_date IS NULL', [endDate, streamId, id])).rowCount ?? 0) > 0),
    listHighlights: (streamId) => run(async () =>
      (await pool.query<HighlightRow>(`SELECT ${H} FROM highlights WHERE stream_id = $1 ORDER BY start_date, created_at, id`, [streamId])).rows.map(highlightFromRow)),
    getTrackingTag: (creatorId) => run(async () =>
      (await pool.query<{ tracking_tag: string | null }>('SELECT tracking_tag FROM creator_commerce WHERE creator_id = $1', [creatorId])).rows[0]?.tracking_tag ?? null),
    setTrackingTag: (creatorId, tag) => run(async () => {
      try {
        await pool.query('INSERT INTO creator_commerce (creator_id, tracking_tag) VALUES ($1, $2) ON CONFLICT (creator_id) DO UPDATE SET tracking_tag = excluded.tracking_tag', [creatorId, tag]);
        return true;
      } catch (err) {
        if ((err as { code?: unknown }).code === '23503') return false; // no such creator
        return d.translateWriteError(err);
      }
    }),
    recordClick: (c) => run(async () => {
      try {
        await pool.query('INSERT INTO clicks (stream_id, product_id, session_id, media_time, at) VALUES ($1, $2, $3, $4, $5)', [c.streamId, c.productId, c.sessionId, c.mediaTime, c.at]);
        return true;
      } catch (err) {
        if ((err as { code?: unknown }).code === '23503') return false; // the stream is gone
        return d.translateWriteError(err);
      }
    }),
    recordConversion: (c) => run(async () => {
      const row = conversionToRow(c);
      let inserted: ConversionRow | undefined;
      try {
        inserted = (await pool.query<ConversionRow>(
          `INSERT INTO conversions (${CONVERSION_COLUMNS.join(', ')}) VALUES (${args(CONVERSION_COLUMNS.length)})
           ON CONFLICT (order_id) DO NOTHING RETURNING ${CONVERSION_COLUMNS.join(', ')}`, CONVERSION_COLUMNS.map((k) => row[k]))).rows[0];
      } catch (err) {
        d.translateWriteError(err);
      }
      if (inserted) return { created: true, rec: conversionFromRow(inserted) };
      const existing = (await pool.query<ConversionRow>(`SELECT ${CONVERSION_COLUMNS.join(', ')} FROM conversions WHERE order_id = $1`, [c.orderId])).rows[0]!;
      return { created: false, rec: conversionFromRow(existing) };
    }),
    conversionCounts: (streamId) => run(async () => (await pool.query<{ product_id: string | null; promo_code: string | null; currency: string; minute: number; purchases: number; amount_units: string }>(
      `SELECT product_id, promo_code, currency, (occurred_at / 60000) * 60000 AS minute, count(*)::int AS purchases, sum(amount_units)::text AS amount_units
       FROM conversions WHERE stream_id = $1 GROUP BY product_id, promo_code, currency, minute ORDER BY minute, product_id NULLS FIRST, promo_code NULLS FIRST, currency`, [streamId])).rows
      .map((r) => ({ productId: r.product_id, promoCode: r.promo_code, currency: r.currency, minute: Number(r.minute), purchases: r.purchases, amountUnits: Number(r.amount_units) }))),
    createPromo: (p) => run(async () => {
      const row = promoToRow(p);
      try {
        await pool.query(`INSERT INTO promos (${PROMO_COLUMNS.join(', ')}) VALUES (${args(PROMO_COLUMNS.length)})`, PROMO_COLUMNS.map((k) => row[k]));
      } catch (err) {
        d.translateWriteError(err);
      }
      return p;
    }),
    listPromos: (streamId) => run(async () =>
      (await pool.query<PromoRow>(`SELECT ${PROMO_COLUMNS.join(', ')} FROM promos WHERE stream_id = $1 ORDER BY created_at, id`, [streamId])).rows.map(promoFromRow)),
    clickCounts: (streamId) => run(async () => (await pool.query<{ product_id: string; minute: number; clicks: number }>(
      `SELECT product_id, (at / 60000) * 60000 AS minute, count(*)::int AS clicks FROM clicks WHERE stream_id = $1
       GROUP BY product_id, minute ORDER BY minute, product_id`, [streamId])).rows.map((r) => ({ productId: r.product_id, minute: Number(r.minute), clicks: r.clicks }))),
    recordPromoReveal: (r) => run(async () => {
      try {
        return ((await pool.query('INSERT INTO promo_reveals (stream_id, code, session_id, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [r.streamId, r.code, r.sessionId, r.at])).rowCount ?? 0) > 0;
      } catch (err) {
        if ((err as { code?: unknown }).code === '23503') return false; // the stream is gone
        return d.translateWriteError(err);
      }
    }),
    promoRevealCounts: (streamId) => run(async () => (await pool.query<{ code: string; minute: string; reveals: number }>(
      `SELECT code, (at / 60000) * 60000 AS minute, count(*)::int AS reveals FROM promo_reveals WHERE stream_id = $1
       GROUP BY code, minute ORDER BY minute, code`, [streamId])).rows.map((r) => ({ code: r.code, minute: Number(r.minute), reveals: r.reveals }))),
    getStreamCommerce: (streamId) => run(() => settings(pool, streamId)),
    updateStreamCommerce: (streamId, patch) => run(() => tx(async (c) => {
      if (!(await lockStream(c, streamId))) return undefined;
      const next = { ...(await settings(c, streamId)), ...(patch.showSoldCounts !== undefined ? { showSoldCounts: patch.showSoldCounts } : {}) };
      await c.query('INSERT INTO stream_commerce (stream_id, show_sold_counts) VALUES ($1, $2) ON CONFLICT (stream_id) DO UPDATE SET show_sold_counts = excluded.show_sold_counts', [streamId, next.showSoldCounts]);
      return next;
    })),
  };
}
