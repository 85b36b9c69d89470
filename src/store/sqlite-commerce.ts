import type { Database } from 'better-sqlite3';
import { ShowcaseError } from '../core/errors.js';
import {
  CONVERSION_COLUMNS, PROMO_COLUMNS, conversionFromRow, conversionToRow, promoFromRow, promoToRow, type ConversionRow, type PromoRow,
  HIGHLIGHT_COLUMNS, PRODUCT_COLUMNS, highlightFromRow, highlightToRow, patchedProduct, productFromRow, productToRow, sameIdSet,
  type HighlightRow, type ProductRow,
} from './commerce-records.js';
import { DEFAULT_STREAM_COMMERCE, type CommerceStore, type ProductRecord } from './commerce-types.js';

const cols = (c: readonly string[]): string => c.join(', ');
const params = (c: readonly string[]): string => c.map((n) => `@${n}`).join(', ');
const P = cols(PRODUCT_COLUMNS);
const H = cols(HIGHLIGHT_COLUMNS);

/**
 * The commerce half of the SQLite store. `run` is the store's wrapper (closed check, throw ->
 * rejection) and `write` its constraint-error translation; every change is one IMMEDIATE transaction.
 */
export function sqliteCommerce(db: Database, run: <T>(fn: () => T) => Promise<T>, write: <T>(fn: () => T) => T): CommerceStore {
  const q = {
    streamExists: db.prepare<[string], { id: string }>('SELECT id FROM streams WHERE id = ?'),
    insertProduct: db.prepare(`INSERT INTO products (${P}) VALUES (${params(PRODUCT_COLUMNS)})`),
    countProducts: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM products WHERE stream_id = ?'),
    listProducts: db.prepare<[string], ProductRow>(`SELECT ${P} FROM products WHERE stream_id = ? ORDER BY position, id`),
    getProduct: db.prepare<[string, string], ProductRow>(`SELECT ${P} FROM products WHERE stream_id = ? AND id = ?`),
    updateProduct: db.prepare(`UPDATE products SET ${PRODUCT_COLUMNS.slice(2).map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id AND stream_id = @stream_id`),
    deleteProduct: db.prepare<[string, string]>('DELETE FROM products WHERE stream_id = ? AND id = ?'),
    shiftAfter: db.prepare<[string, number]>('UPDATE products SET position = position - 1 WHERE stream_id = ? AND position > ?'),
    setPosition: db.prepare<[number, number, string, string]>('UPDATE products SET position = ?, updated_at = ? WHERE stream_id = ? AND id = ?'),
    insertHighlight: db.prepare(`INSERT INTO highlights (${H}) VALUES (${params(HIGHLIGHT_COLUMNS)})`),
    endHighlight: db.prepare<[number, string, string]>('UPDATE highlights SET end_date = max(?, start_date) WHERE stream_id = ? AND id = ? AND end_date IS NULL'),
    listHighlights: db.prepare<[string], HighlightRow>(`SELECT ${H} FROM highlights WHERE stream_id = ? ORDER BY start_date, created_at, id`),
    creatorExists: db.prepare<[string], { id: string }>('SELECT id FROM creators WHERE id = ?'),
    getTag: db.prepare<[string], { tracking_tag: string | null }>('SELECT tracking_tag FROM creator_commerce WHERE creator_id = ?'),
    setTag: db.prepare<[string, string | null]>('INSERT INTO creator_commerce (creator_id, tracking_tag) VALUES (?, ?) ON CONFLICT (creator_id) DO UPDATE SET tracking_tag = excluded.tracking_tag'),
    insertClick: db.prepare('INSERT INTO clicks (stream_id, product_id, session_id, media_time, at) VALUES (@stream_id, @product_id, @session_id, @media_time, @at)'),
    insertConversion: db.prepare<[Record<string, unknown>], ConversionRow>(
      `INSERT INTO conversions (${cols(CONVERSION_COLUMNS)}) VALUES (${params(CONVERSION_COLUMNS)}) ON CONFLICT (order_id) DO NOTHING RETURNING ${cols(CONVERSION_COLUMNS)}`),
    conversionById: db.prepare<[string], ConversionRow>(`SELECT ${cols(CONVERSION_COLUMNS)} FROM conversions WHERE order_id = ?`),
    conversionCounts: db.prepare<[string], { product_id: string | null; promo_code: string | null; currency: string; minute: number; purchases: number; amount_units: number }>(
      `SELECT product_id, promo_code, currency, (occurred_at / 60000) * 60000 AS minute, count(*) AS purchases, sum(amount_units) AS amount_units
       FROM conversions WHERE stream_id = ? GROUP BY product_id, promo_code, currency, minute ORDER BY minute, product_id, promo_code, currency`),
    insertPromo: db.prepare(`INSERT INTO promos (${cols(PROMO_COLUMNS)}) VALUES (${params(PROMO_COLUMNS)})`),
    listPromos: db.prepare<[string], Omit<PromoRow, 'live_only'> & { live_only: number }>(`SELECT ${cols(PROMO_COLUMNS)} FROM promos WHERE stream_id = ? ORDER BY created_at, id`),
    insertReveal: db.prepare<[string, string, string | null, number]>('INSERT INTO promo_reveals (stream_id, code, session_id, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    revealCounts: db.prepare<[string], { code: string; minute: number; reveals: number }>(
      'SELECT code, (at / 60000) * 60000 AS minute, count(*) AS reveals FROM promo_reveals WHERE stream_id = ? GROUP BY code, minute ORDER BY minute, code'),
    getSettings: db.prepare<[string], { show_sold_counts: number }>('SELECT show_sold_counts FROM stream_commerce WHERE stream_id = ?'),
    setSettings: db.prepare<[string, number]>('INSERT INTO stream_commerce (stream_id, show_sold_counts) VALUES (?, ?) ON CONFLICT (stream_id) DO UPDATE SET show_sold_counts = excluded.show_sold_counts'),
    clickCounts: db.prepare<[string], { product_id: string; minute: number; clicks: number }>(
      'SELECT product_id, (at / 60000) * 60000 AS minute, count(*) AS clicks FROM clicks WHERE stream_id = ? GROUP BY product_id, minute ORDER BY minute, product_id'),
  };
  const settings = (streamId: string): { showSoldCounts: boolean } => {
    const r = q.getSettings.get(streamId);
    return r ? { showSoldCounts: r.show_sold_counts === 1 } : { ...DEFAULT_STREAM_COMMERCE };
  };
  const list = (streamId: string): ProductRecord[] => q.listProducts.all(streamId).map(productFromRow);
  const get = (streamId: string, id: string): ProductRecord | undefined => {
    const r = q.getProduct.get(streamId, id);
    return r ? productFromRow(r) : undefined;
  };

  const createTx = db.transaction((rec: Omit<ProductRecord, 'position'>, max: number) => {
    if (!q.streamExists.get(rec.streamId)) throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', 'Referenced record does not exist', { constraint: 'foreign key' });
    const n = q.countProducts.get(rec.streamId)!.n;
    if (n >= max) throw new ShowcaseError('SHOWCASE_ERR_CONFLICT', `a stream holds at most ${max} products`, { limit: max });
    const full: ProductRecord = { ...rec, position: n };
    write(() => q.insertProduct.run(productToRow(full)));
    return full;
  });
  const updateTx = db.transaction((streamId: string, id: string, patch: Parameters<CommerceStore['updateProduct']>[2], now: number) => {
    const cur = get(streamId, id);
    if (!cur) return undefined;
    const next = patchedProduct(cur, patch, now);
    write(() => q.updateProduct.run(productToRow(next)));
    return next;
  });
  const deleteTx = db.transaction((streamId: string, id: string) => {
    const cur = get(streamId, id);
    if (!cur) return false;
    q.deleteProduct.run(streamId, id);
    q.shiftAfter.run(streamId, cur.position);
    return true;
  });
  const settingsTx = db.transaction((streamId: string, patch: Parameters<CommerceStore['updateStreamCommerce']>[1]) => {
    if (!q.streamExists.get(streamId)) return undefined;
    const next = { ...settings(streamId), ...(patch.showSoldCounts !== undefined ? { showSoldCounts: patch.showSoldCounts } : {}) };
    q.setSettings.run(streamId, next.showSoldCounts ? 1 : 0);
    return next;
  });
  const reorderTx = db.transaction((streamId: string, ids: readonly string[], now: number) => {
    const current = list(streamId).map((p) => p.id);
    if (!sameIdSet(ids, current)) throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', 'ids must list every product of the stream exactly once', { fields: [{ field: '/ids', message: 'not the stream\'s product ids' }] });
    ids.forEach((id, i) => q.setPosition.run(i, now, streamId, id));
    return list(streamId);
  });

  return {
    createProduct: (rec, max) => run(() => createTx.immediate(rec, max)),
    listProducts: (streamId) => run(() => list(streamId)),
    getProduct: (streamId, id) => run(() => get(streamId, id)),
    updateProduct: (streamId, id, patch, now) => run(() => updateTx.immediate(streamId, id, patch, now)),
    deleteProduct: (streamId, id) => run(() => deleteTx.immediate(streamId, id)),
    reorderProducts: (streamId, ids, now) => run(() => reorderTx.immediate(streamId, ids, now)),
    createHighlight: (rec) => run(() => {
      write(() => q.insertHighlight.run(highlightToRow(rec)));
      return rec;
    }),
    endHighlight: (streamId, id, endDate) => run(() => q.endHighlight.run(endDate, streamId, id).changes > 0),
    listHighlights: (streamId) => run(() => q.listHighlights.all(streamId).map(highlightFromRow)),
    getTrackingTag: (creatorId) => run(() => q.getTag.get(creatorId)?.tracking_tag ?? null),
    setTrackingTag: (creatorId, tag) => run(() => {
      if (!q.creatorExists.get(creatorId)) return false;
      q.setTag.run(creatorId, tag);
      return true;
    }),
    recordClick: (c) => run(() => {
      if (!q.streamExists.get(c.streamId)) return false;
      write(() => q.insertClick.run({ stream_id: c.streamId, product_id: c.productId, session_id: c.sessionId, media_time: c.mediaTime, at: c.at }));
      return true;
    }),
    recordConversion: (c) => run(() => {
      if (!q.streamExists.get(c.streamId)) throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', 'Referenced record does not exist', { constraint: 'foreign key' });
      const row = write(() => q.insertConversion.get(conversionToRow(c) as unknown as Record<string, unknown>));
      if (row) return { created: true, rec: conversionFromRow(row) };
      return { created: false, rec: conversionFromRow(q.conversionById.get(c.orderId)!) };
    }),
    conversionCounts: (streamId) => run(() => q.conversionCounts.all(streamId).map((r) => ({
      productId: r.product_id, promoCode: r.promo_code, currency: r.currency, minute: r.minute, purchases: r.purchases, amountUnits: r.amount_units,
    }))),
    createPromo: (p) => run(() => {
      write(() => q.insertPromo.run({ ...promoToRow(p), live_only: p.liveOnly ? 1 : 0 }));
      return p;
    }),
    listPromos: (streamId) => run(() => q.listPromos.all(streamId).map((r) => promoFromRow({ ...r, live_only: r.live_only === 1 }))),
    clickCounts: (streamId) => run(() => q.clickCounts.all(streamId).map((r) => ({ productId: r.product_id, minute: r.minute, clicks: r.clicks }))),
    recordPromoReveal: (r) => run(() => {
      if (!q.streamExists.get(r.streamId)) return false;
      return write(() => q.insertReveal.run(r.streamId, r.code, r.sessionId, r.at)).changes > 0;
    }),
    promoRevealCounts: (streamId) => run(() => q.revealCounts.all(streamId).map((r) => ({ code: r.code, minute: r.minute, reveals: r.reveals }))),
    getStreamCommerce: (streamId) => run(() => settings(streamId)),
    updateStreamCommerce: (streamId, patch) => run(() => settingsTx.immediate(streamId, patch)),
  };
}
