import type { Store, StreamRecord } from '../../store/types.js';
import type { StreamWatchSnapshot } from '../../metrics/stream-watch-stats.js';

/** The commerce block's per-product rows, as src/commerce/commerce-analytics.ts makes them. */
interface ProductTally { productId: string; clicks: number; purchases: number; revenue: Record<string, string> }

/**
 * What issue 15 adds to GET /v1/streams/:id/analytics: live viewers (peak, average), replay
 * viewers (unique, watching now, watch minutes), clicks and purchases per product with the product's title and
 * carousel position, and followers gained while the stream was live (shoppers who followed the
 * creator between its start and its end and still follow). Practice streams gain no followers.
 */
export async function journeyAnalytics(
  store: Pick<Store, 'listProducts' | 'followersGained'>,
  rec: StreamRecord,
  figures: { peak: number; average: number; replayUnique: number; replayWatchSeconds: number; snapshot: StreamWatchSnapshot | undefined; commerce?: Record<string, unknown> },
  now: number,
): Promise<Record<string, unknown>> {
  const [products, followersGained] = await Promise.all([
    store.listProducts(rec.id),
    rec.ownerId && rec.startedAt && !rec.practice ? store.followersGained(rec.ownerId, rec.startedAt, (rec.endedAt ?? now) + 1) : Promise.resolve(0),
  ]);
  const tallies = new Map(((figures.commerce?.byProduct as ProductTally[] | undefined) ?? []).map((t) => [t.productId, t]));
  const v = figures.snapshot?.viewers;
  return {
    liveViewers: { peak: figures.peak, average: figures.average },
    replayViewers: {
      unique: figures.replayUnique, now: v ? v.hls.replay + v.webrtc.replay : 0, watchMinutes: Math.round((figures.replayWatchSeconds / 60) * 100) / 100,
    },
    products: products.map((p) => {
      const t = tallies.get(p.id);
      return { productId: p.id, title: p.title, position: p.position, clicks: t?.clicks ?? 0, purchases: t?.purchases ?? 0, revenue: t?.revenue ?? {} };
    }),
    followersGained,
  };
}
