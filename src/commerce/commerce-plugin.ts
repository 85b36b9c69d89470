import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { KeyedQueue } from '../core/keyed-queue.js';
import type { LiveStream } from '../core/live-stream.js';
import type { Logger } from '../core/logger.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import type { Authenticator } from '../http/auth.js';
import type { WatchEventFeed } from '../http/watch-event-feed.js';
import type { HlsOrigin } from '../playback/hls/hls-origin.js';
import type { RecordingService } from '../recorder/recording-service.js';
import type { Store } from '../store/types.js';
import type { ConversionRecord } from '../store/commerce-types.js';
import type { CommerceConfig } from './commerce-config.js';
import { HighlightTimeline, toRange } from './highlight-timeline.js';
import { highlightRoutes, persistHighlightEnd } from './highlight-routes.js';
import { LIVE_EDGE_READER, LiveEdgeReader } from './live-edge.js';
import { productRoutes } from './product-routes.js';
import { goRoutes } from './go-routes.js';
import { conversionRoutes } from './conversion-routes.js';
import { TokenBuckets } from './token-buckets.js';
import { OnScreenPromos, promoScreenRoutes } from './promo-screen-routes.js';
import { promoRevealRoutes } from './promo-reveal-routes.js';
import { streamCommerceRoutes } from './stream-commerce-routes.js';
import { validPromos } from './conversion-routes.js';

/** The services shoppable streams use; app.ts passes them in one registration. */
export interface CommercePluginOptions {
  config: CommerceConfig;
  store: Store;
  auth: Authenticator;
  registry: StreamRegistry;
  origin: HlsOrigin;
  recordings?: RecordingService;
  /** The watch pages' event feed (carousel changes, highlights). */
  feed?: WatchEventFeed;
  logger: Logger;
  /** Hears each new conversion (notifications' conversion.created webhook). */
  onConversion?: (c: ConversionRecord) => Promise<void> | void;
}

/**
 * Shoppable streams (issue 13) as one fastify plugin: the carousel's routes, highlights stamped at
 * the ingest edge into a per-stream cue list that the HLS origin renders as EXT-X-DATERANGE (and
 * the recorder into the VOD playlists), and the readers and listeners that keep it true.
 */
async function commerce(app: FastifyInstance, o: CommercePluginOptions): Promise<void> {
  const log = o.logger.child({ component: 'commerce' });
  const timeline = new HighlightTimeline(o.config.maxHighlightsPerStream);
  const writes = new KeyedQueue();
  const deps = { store: o.store, feed: o.feed, writes, logger: log };
  const screen = new OnScreenPromos();

  // The origin reads each stream's cue list at every media playlist render (synchronously).
  o.origin.dateRanges = (id) => timeline.dateRanges(id);
  o.origin.on('dropped', (id) => {
    if (!o.registry.get(id)) timeline.drop(id);
  });
  // The replay carries the same ranges: from the store, once the stream's writes have landed.
  if (o.recordings) {
    o.recordings.dateRangesFor = async (id) => {
      await writes.run(id, async () => {});
      return (await o.store.listHighlights(id)).map(toRange);
    };
  }

  const watch = (s: LiveStream): void => {
    if (!s.reader(LIVE_EDGE_READER)) s.addReader(new LiveEdgeReader());
    // A stream this process continues (a deploy) gets its highlights back into the live window.
    if (s.state === 'interrupted') {
      void o.store.listHighlights(s.id).then((hs) => timeline.restore(s.id, hs))
        .catch((err: unknown) => log.warn({ err, streamId: s.id }, 'restoring the stream\'s highlights failed: earlier ones are missing from the live playlists'));
    }
    s.on('state', (state) => {
      if (state !== 'ended') return;
      // The stream's end ends its highlight, at the last frame the ingest had.
      const edge = s.reader(LIVE_EDGE_READER) as LiveEdgeReader | undefined;
      persistHighlightEnd(deps, timeline.end(s.id, edge ? edge.programDate() : Date.now()));
      // The end takes the on-screen promo off too (a liveOnly code never outlives the stream).
      if (screen.clear(s.id)) o.feed?.publish(s.id, { type: 'promo', promo: null });
      // Open pages drop the liveOnly codes with the end (the API stops listing them at the same moment).
      const feed = o.feed;
      if (feed) {
        void validPromos(o.store, s.id, false).then((items) => feed.publish(s.id, { type: 'promos', items }))
          .catch((err: unknown) => log.warn({ err, streamId: s.id }, 'listing the promos at the stream\'s end failed: open pages keep its liveOnly codes until reloaded'));
      }
    });
  };
  for (const s of o.registry.all()) watch(s);
  o.registry.on('stream', watch);
  app.addHook('onClose', async () => {
    o.registry.off('stream', watch);
    await writes.drain();
  });

  await app.register(productRoutes, {
    store: o.store,
    auth: o.auth,
    feed: o.feed,
    maxProductsPerStream: o.config.maxProductsPerStream,
    bodyLimitBytes: o.config.productBodyLimitBytes,
    // A product deleted while highlighted: its highlight ends now (the timeline keeps its history).
    onDeleted: (streamId, productId) => {
      if (timeline.current(streamId)?.productId !== productId) return;
      const edge = o.registry.get(streamId)?.reader(LIVE_EDGE_READER) as LiveEdgeReader | undefined;
      persistHighlightEnd(deps, timeline.end(streamId, edge ? edge.programDate() : Date.now()));
    },
  });
  await app.register(highlightRoutes, {
    ...deps,
    auth: o.auth,
    registry: o.registry,
    origin: o.origin,
    timeline,
    limiter: new TokenBuckets(o.config.highlightsPerSecond),
  });
  await app.register(goRoutes, { store: o.store, auth: o.auth, trackingParam: o.config.trackingParam, writes, logger: log });
  await app.register(conversionRoutes, { store: o.store, auth: o.auth, registry: o.registry, shopSecret: o.config.shopSecret, feed: o.feed, onScreen: (id) => screen.get(id), onConversion: o.onConversion });
  await app.register(promoScreenRoutes, { store: o.store, auth: o.auth, registry: o.registry, screen, feed: o.feed });
  await app.register(promoRevealRoutes, { store: o.store, registry: o.registry, limiter: new TokenBuckets(o.config.promoRevealsPerSecond) });
  await app.register(streamCommerceRoutes, { store: o.store, auth: o.auth, feed: o.feed });
}

/** The commerce plugin (fastify-plugin: its routes sit beside the others, with the app's error handler). */
export const commercePlugin = fp(commerce, { name: 'showcase-commerce', fastify: '5.x' });
