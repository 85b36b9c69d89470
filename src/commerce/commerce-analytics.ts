import type { Store } from '../store/types.js';
import { fromUnits } from './money.js';

interface Tally {
  clicks: number;
  purchases: number;
  /** Per currency, ten-thousandths. */
  revenue: Map<string, number>;
}

/** A minute of the timeline: the tally, and promo reveals and redemptions per code. */
interface MinuteTally extends Tally {
  reveals: Map<string, number>;
  redemptions: Map<string, number>;
}

const tally = (): Tally => ({ clicks: 0, purchases: 0, revenue: new Map() });
const minuteTally = (): MinuteTally => ({ ...tally(), reveals: new Map(), redemptions: new Map() });
const sorted = <V>(m: Map<string, V>): Array<[string, V]> => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
const revenueView = (r: Map<string, number>): Record<string, string> => Object.fromEntries(sorted(r).map(([c, u]) => [c, fromUnits(u)]));
const codesView = (m: Map<string, number>): Record<string, number> => Object.fromEntries(sorted(m));
const view = (t: Tally): Record<string, unknown> => ({ clicks: t.clicks, purchases: t.purchases, revenue: revenueView(t.revenue) });
const add = (m: Map<string, number>, k: string, n: number): void => {
  m.set(k, (m.get(k) ?? 0) + n);
};

/**
 * The `commerce` part of GET /v1/streams/:id/analytics: clicks (from /go), purchases and revenue
 * per currency (from conversions), promo reveals (copies on the watch page) and redemptions
 * (conversions' promoCode) per code, each in total, per product where it has one, and per minute.
 */
export async function commerceAnalytics(store: Store, streamId: string): Promise<Record<string, unknown>> {
  const [clicks, conversions, reveals] = await Promise.all([store.clickCounts(streamId), store.conversionCounts(streamId), store.promoRevealCounts(streamId)]);
  const total = tally();
  const byProduct = new Map<string, Tally>();
  const byMinute = new Map<number, MinuteTally>();
  const redemptions = new Map<string, number>();
  const revealsByCode = new Map<string, number>();
  let revealsTotal = 0;
  const product = (k: string): Tally => {
    let v = byProduct.get(k);
    if (!v) byProduct.set(k, (v = tally()));
    return v;
  };
  const minute = (k: number): MinuteTally => {
    let v = byMinute.get(k);
    if (!v) byMinute.set(k, (v = minuteTally()));
    return v;
  };
  for (const c of clicks) {
    for (const t of [total, product(c.productId), minute(c.minute)]) t.clicks += c.clicks;
  }
  for (const c of conversions) {
    const m = minute(c.minute);
    const ts: Tally[] = [total, m];
    if (c.productId) ts.push(product(c.productId));
    for (const t of ts) {
      t.purchases += c.purchases;
      add(t.revenue, c.currency, c.amountUnits);
    }
    if (c.promoCode) {
      add(redemptions, c.promoCode, c.purchases);
      add(m.redemptions, c.promoCode, c.purchases);
    }
  }
  for (const r of reveals) {
    revealsTotal += r.reveals;
    add(revealsByCode, r.code, r.reveals);
    add(minute(r.minute).reveals, r.code, r.reveals);
  }
  return {
    ...view(total),
    promoRedemptions: codesView(redemptions),
    promoReveals: codesView(revealsByCode),
    promoRevealsTotal: revealsTotal,
    byProduct: sorted(byProduct).map(([productId, t]) => ({ productId, ...view(t) })),
    timeline: [...byMinute].sort(([a], [b]) => a - b).map(([at, t]) => ({
      minute: new Date(at).toISOString(), ...view(t), promoReveals: codesView(t.reveals), promoRedemptions: codesView(t.redemptions),
    })),
  };
}
