/**
 * Commerce persistence (issue 13): a stream's carousel products and its highlights. Kept apart from
 * types.ts so the shoppable-streams feature reads as one piece; Store extends CommerceStore.
 */

/** A price as the shop states it: a decimal string (never a float) and an ISO 4217 currency. */
export interface Price {
  amount: string;
  currency: string;
}

/** One product of a stream's carousel (table `products`). */
export interface ProductRecord {
  id: string;
  streamId: string;
  /** 0-based carousel position; positions of a stream are 0..n-1. */
  position: number;
  title: string;
  /** http(s) URL of the product page: the only place /go ever redirects to. */
  url: string;
  imageUrl: string | null;
  price: Price | null;
  /** The shop's own id (SKU, ASIN). */
  ref: string | null;
  description: string | null;
  createdAt: number;
  updatedAt: number;
}

/** What createProduct takes: the store assigns the position (the end of the carousel). */
export type NewProductRecord = Omit<ProductRecord, 'position'>;

/** The fields updateProduct may change. */
export type ProductPatch = Partial<Pick<ProductRecord, 'title' | 'url' | 'imageUrl' | 'price' | 'ref' | 'description'>>;

/** One highlight of a product on a stream's timeline (table `highlights`). */
export interface HighlightRecord {
  id: string;
  streamId: string;
  productId: string;
  /** EXT-X-PROGRAM-DATE-TIME (ms) of the media at the ingest live edge when it was made. */
  startDate: number;
  /** Where it ended on the same clock; null while current. */
  endDate: number | null;
  /** startDate in seconds of the recording. */
  mediaTime: number;
  createdAt: number;
}

/** One tap on a product's Buy (table `clicks`). */
export interface ClickRecord {
  streamId: string;
  productId: string;
  /** The viewer session the page carried, if any. */
  sessionId: string | null;
  /** Where the player was, in seconds of the recording, if the page said. */
  mediaTime: number | null;
  at: number;
}

/** A purchase the shop reported (table `conversions`); orderId is the idempotency key. */
export interface ConversionRecord {
  orderId: string;
  streamId: string;
  /** The stream's owner when it was reported (null: an operator stream). */
  creatorId: string | null;
  productId: string | null;
  promoCode: string | null;
  /** Ten-thousandths of the currency unit (exact: 19.99 is 199900). */
  amountUnits: number;
  currency: string;
  occurredAt: number;
  receivedAt: number;
}

/** A promo code of a stream (table `promos`). */
export interface PromoRecord {
  id: string;
  streamId: string;
  code: string;
  description: string;
  /** Valid only while the stream is live (gone from the page and the API once it ends). */
  liveOnly: boolean;
  startsAt: number | null;
  endsAt: number | null;
  createdAt: number;
}

/** A shopper copying a promo code on the watch page (table `promo_reveals`). */
export interface PromoRevealRecord {
  streamId: string;
  code: string;
  /** The viewer session the page carried, if any: a session's reveal of a code counts once. */
  sessionId: string | null;
  at: number;
}

/** A stream's commerce settings (table `stream_commerce`; a stream without a row has the defaults). */
export interface StreamCommerceSettings {
  /** Whether viewers see how many of each product sold during the stream (default true). */
  showSoldCounts: boolean;
}

/** The settings of a stream that has none stored. */
export const DEFAULT_STREAM_COMMERCE: Readonly<StreamCommerceSettings> = Object.freeze({ showSoldCounts: true });

export interface CommerceStore {
  /**
   * Appends a product at the end of its stream's carousel, unless the stream holds maxPerStream
   * already (throws CONFLICT with details.limit); VALIDATION for an unknown stream.
   */
  createProduct(rec: NewProductRecord, maxPerStream: number): Promise<ProductRecord>;
  /** A stream's products in carousel order. */
  listProducts(streamId: string): Promise<ProductRecord[]>;
  getProduct(streamId: string, id: string): Promise<ProductRecord | undefined>;
  /** Changes only the fields present (null clears an optional one); undefined when there is no such product. */
  updateProduct(streamId: string, id: string, patch: ProductPatch, now: number): Promise<ProductRecord | undefined>;
  /** Deletes a product; the ones after it move up one position. */
  deleteProduct(streamId: string, id: string): Promise<boolean>;
  /**
   * Sets the carousel order: ids must be exactly the stream's product ids (VALIDATION otherwise).
   * Returns the products in the new order.
   */
  reorderProducts(streamId: string, ids: readonly string[], now: number): Promise<ProductRecord[]>;
  /** Records a highlight (VALIDATION for an unknown stream). */
  createHighlight(rec: HighlightRecord): Promise<HighlightRecord>;
  /** Sets a highlight's end once; false when it has none such or it had ended already. */
  endHighlight(streamId: string, id: string, endDate: number): Promise<boolean>;
  /** A stream's highlights, oldest first. */
  listHighlights(streamId: string): Promise<HighlightRecord[]>;
  /** The creator's tracking tag (appended to shop URLs on click-through), null when none. */
  getTrackingTag(creatorId: string): Promise<string | null>;
  /** Sets or clears (null) the tag; false when there is no such creator. */
  setTrackingTag(creatorId: string, tag: string | null): Promise<boolean>;
  /** Counts a click; false (nothing written) when the stream no longer exists. */
  recordClick(c: ClickRecord): Promise<boolean>;
  /** A stream's clicks per product, and per minute (ms of the minute's start) per product. */
  clickCounts(streamId: string): Promise<Array<{ productId: string; minute: number; clicks: number }>>;
  /**
   * Records a conversion unless its orderId is known: one statement, so concurrent retries of one
   * order count once. Returns the stored record and whether this call created it; VALIDATION for
   * an unknown stream.
   */
  recordConversion(c: ConversionRecord): Promise<{ created: boolean; rec: ConversionRecord }>;
  /**
   * A stream's conversions grouped by product, promo code, currency and minute (ms of its start):
   * purchases and the summed amount (ten-thousandths).
   */
  conversionCounts(streamId: string): Promise<Array<{ productId: string | null; promoCode: string | null; currency: string; minute: number; purchases: number; amountUnits: number }>>;
  /** Adds a promo code (CONFLICT for a code the stream has already). */
  createPromo(p: PromoRecord): Promise<PromoRecord>;
  /** A stream's promo codes, oldest first. */
  listPromos(streamId: string): Promise<PromoRecord[]>;
  /**
   * Counts a reveal: true when counted; false when this session had revealed the code already
   * (one statement, so concurrent beacons of one session count once) or the stream no longer exists.
   * A reveal without a session always counts.
   */
  recordPromoReveal(r: PromoRevealRecord): Promise<boolean>;
  /** A stream's reveals per code and minute (ms of the minute's start), ordered by minute then code. */
  promoRevealCounts(streamId: string): Promise<Array<{ code: string; minute: number; reveals: number }>>;
  /** The stream's commerce settings (the defaults when none were set; also for an unknown stream). */
  getStreamCommerce(streamId: string): Promise<StreamCommerceSettings>;
  /** Changes the fields present and returns the settings after; undefined when there is no such stream. */
  updateStreamCommerce(streamId: string, patch: Partial<StreamCommerceSettings>): Promise<StreamCommerceSettings | undefined>;
}
