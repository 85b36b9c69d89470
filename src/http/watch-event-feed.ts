import { TypedEmitter } from '../core/typed-emitter.js';

/** A product as every viewer may see it (no secret: the shop URL is reached through buyUrl, which counts the click). */
export interface PublicProduct {
  id: string;
  position: number;
  title: string;
  imageUrl: string | null;
  price: { amount: string; currency: string } | null;
  description: string | null;
  /** /go/:streamId/:productId: counts the click, then redirects to the shop. */
  buyUrl: string;
}

/** A highlight as viewers see it; startDate/endDate are ISO program dates (the video's own clock). */
export interface PublicHighlight {
  id: string;
  productId: string;
  startDate: string;
  endDate: string | null;
  mediaTime: number;
}

/**
 * What a watch page hears besides the stream's state, each a named server-sent event:
 * `products` (the carousel changed: the whole list, in order), `highlight` (one started or
 * ended: for WebRTC viewers, who have no HLS timeline to carry it) and `sold` (a conversion came in).
 */
export type WatchEvent =
  | { type: 'products'; items: PublicProduct[] }
  | { type: 'highlight'; highlight: PublicHighlight }
  /** Units sold during this stream per product id (from the shop's conversions). */
  | { type: 'sold'; counts: Record<string, number> }
  /** The promo the creator put on screen (null: taken off). */
  | { type: 'promo'; promo: Record<string, unknown> | null }
  /** The promo codes valid now changed (one was added, or the stream ended and its liveOnly ones went). */
  | { type: 'promos'; items: Array<Record<string, unknown>> };

export type WatchEventFeedEvents = {
  event: [streamId: string, event: WatchEvent];
};

/** The typed feed parts of the server publish watch-page events through; the event-stream hub subscribes. */
export class WatchEventFeed extends TypedEmitter<WatchEventFeedEvents> {
  /** Sends an event to every page watching the stream. */
  publish(streamId: string, event: WatchEvent): void {
    this.safeEmit('event', streamId, event);
  }
}
