import type { Store } from '../store/types.js';
import { fromUnits } from './money.js';

interface Tally {
  clicks: number;
  purchases: number;
  /** Per currency, ten-thousandths. */
  revenue: Map<string, number>;
}

const tally = (): Tally => ({ clicks: 0, purchases: 0, revenue: new Map() });
const revenueView = (r: Map<string, number>): Record<string, string> => Object.fromEntries([...r].sort(([a], [b]) => (a < b ? -1 : 1)).map(([c, u]) => [c, fromUnits(u)]));
const view = (t: Tally): Record<string, unknown> => ({ clicks: t.clicks, purchases: t.purchases, revenue: revenueView(t.revenue) });

/**
 * The `commerce` part of GET /v1/streams/:id/analytics: clicks (from /go), purchases and revenue
 * per currency (from conversions), promo redemptions, each in total, per product and per minute.
 */
export async function commerceAnalytics(store: Store, streamId: string): Promise<Record<string, unknown>> {
  const [clicks, conversions] = await Promise.all([store.clickCounts(streamId), store.conversionCounts(streamId)]);
  const total = tally();
  const byProduct = new Map<string, Tally>();
  const byMinute = new Map<number, Tally>();
  const redemptions = new Map<string, number>();
  const at = <K>(m: Map<K, Tally>, k: K): Tally => {
    let v = m.get(k);
    if (!v) m.set(k, (v = tally()));
    return v;
  };
  for (const c of clicks) {
    for (const t of [total, at(byProduct, c.productId), at(byMinute, c.minute)]) t.clicks += c.clicks;
  }
  for (const c of conversions) {
    const ts = [total, at(byMinute, c.minute)];
    if (c.productId) ts.push(at(byProduct, c.productId));
    for (const t of ts) {
      t.purchases += c.purchases;
      t.revenue.set(c.currency, (t.revenue.get(c.currency) ?? 0) + c.amountUnits);
    }
    if (c.promoCode) redemptions.set(c.promoCode, (redemptions.get(c.promoCode) ?? 0) + c.purchases);
  }
  return {
    ...view(total),
    promoRedemptions: Object.fromEntries(redemptions),
    byProduct: [...byProduct].sort(([a], [b]) => (a < b ? -1 : 1)).map(([productId, t]) => ({ productId, ...view(t) })),
    timeline: [...byMinute].sort(([a], [b]) => a - b).map(([minute, t]) => ({ minute: new Date(minute).toISOString(), ...view(t) })),
  };
}
