import type { HighlightRecord, ProductPatch, ProductRecord } from './commerce-types.js';

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
