import type { ConversionRecord, HighlightRecord, ProductPatch, ProductRecord, PromoRecord } from './commerce-types.js';

/** Columns of `products`, in one order for both stores. */
export const PRODUCT_COLUMNS = ['id', 'stream_id', 'position', 'title', 'url', 'image_url', 'price_amount', 'price_currency', 'ref', 'description', 'created_at', 'updated_at'] as const;
/** Columns of `highlights`. */
export const HIGHLIGHT_COLUMNS = ['id', 'stream_id', 'product_id', 'start_date', 'end_date', 'media_time', 'created_at'] as const;

export interface ProductRow {
  id: string; stream_id: string; position: number; title: string; url: string; image_url: string | null;
  price_amount: string | null; price_currency: string | null; ref: string | null; description: string | null;
  created_at: number; updated_at: number;
}

export interface HighlightRow {
  id: string; stream_id: string; product_id: string; start_date: number; end_date: number | null; media_time: number; created_at: number;
}

/** A products row as a record. */
export function productFromRow(r: ProductRow): ProductRecord {
  return {
    id: r.id, streamId: r.stream_id, position: r.position, title: r.title, url: r.url, imageUrl: r.image_url,
    price: r.price_amount !== null && r.price_currency !== null ? { amount: r.price_amount, currency: r.price_currency } : null,
    ref: r.ref, description: r.description, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

/** A product record as a products row. */
export function productToRow(p: ProductRecord): ProductRow {
  return {
    id: p.id, stream_id: p.streamId, position: p.position, title: p.title, url: p.url, image_url: p.imageUrl,
    price_amount: p.price?.amount ?? null, price_currency: p.price?.currency ?? null, ref: p.ref, description: p.description,
    created_at: p.createdAt, updated_at: p.updatedAt,
  };
}

/** The product with a patch applied (undefined fields kept, null clears). */
export function patchedProduct(p: ProductRecord, patch: ProductPatch, now: number): ProductRecord {
  const next: ProductRecord = { ...p, updatedAt: now };
  for (const k of ['title', 'url', 'imageUrl', 'price', 'ref', 'description'] as const) {
    if (patch[k] !== undefined) (next as unknown as Record<string, unknown>)[k] = patch[k];
  }
  return next;
}

/** A highlights row as a record. */
export function highlightFromRow(r: HighlightRow): HighlightRecord {
  return { id: r.id, streamId: r.stream_id, productId: r.product_id, startDate: r.start_date, endDate: r.end_date, mediaTime: r.media_time, createdAt: r.created_at };
}

/** A highlight record as a highlights row. */
export function highlightToRow(h: HighlightRecord): HighlightRow {
  return { id: h.id, stream_id: h.streamId, product_id: h.productId, start_date: h.startDate, end_date: h.endDate, media_time: h.mediaTime, created_at: h.createdAt };
}

/** Whether ids are exactly the stream's product ids, each once. */
export function sameIdSet(ids: readonly string[], current: readonly string[]): boolean {
  if (ids.length !== current.length) return false;
  const want = new Set(current);
  const seen = new Set<string>();
  for (const id of ids) {
    if (!want.has(id) || seen.has(id)) return false;
    seen.add(id);
  }
  return true;
}

/** Columns of `conversions`. */
export const CONVERSION_COLUMNS = ['order_id', 'stream_id', 'creator_id', 'product_id', 'promo_code', 'amount_units', 'currency', 'occurred_at', 'received_at'] as const;
/** Columns of `promos`. */
export const PROMO_COLUMNS = ['id', 'stream_id', 'code', 'description', 'live_only', 'starts_at', 'ends_at', 'created_at'] as const;

export interface ConversionRow {
  order_id: string; stream_id: string; creator_id: string | null; product_id: string | null; promo_code: string | null;
  amount_units: number; currency: string; occurred_at: number; received_at: number;
}

export interface PromoRow {
  id: string; stream_id: string; code: string; description: string; live_only: boolean; starts_at: number | null; ends_at: number | null; created_at: number;
}

/** A conversions row as a record. */
export function conversionFromRow(r: ConversionRow): ConversionRecord {
  return { orderId: r.order_id, streamId: r.stream_id, creatorId: r.creator_id, productId: r.product_id, promoCode: r.promo_code, amountUnits: Number(r.amount_units), currency: r.currency, occurredAt: r.occurred_at, receivedAt: r.received_at };
}

/** A conversion record as a conversions row. */
export function conversionToRow(c: ConversionRecord): ConversionRow {
  return { order_id: c.orderId, stream_id: c.streamId, creator_id: c.creatorId, product_id: c.productId, promo_code: c.promoCode, amount_units: c.amountUnits, currency: c.currency, occurred_at: c.occurredAt, received_at: c.receivedAt };
}

/** A promos row as a record. */
export function promoFromRow(r: PromoRow): PromoRecord {
  return { id: r.id, streamId: r.stream_id, code: r.code, description: r.description, liveOnly: Boolean(r.live_only), startsAt: r.starts_at, endsAt: r.ends_at, createdAt: r.created_at };
}

/** A promo record as a promos row. */
export function promoToRow(p: PromoRecord): PromoRow {
  return { id: p.id, stream_id: p.streamId, code: p.code, description: p.description, live_only: p.liveOnly, starts_at: p.startsAt, ends_at: p.endsAt, created_at: p.createdAt };
}
