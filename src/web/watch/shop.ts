/// <reference lib="dom" />
/**
 * The watch page's shop: the product carousel under the video (image, title, price, Buy through
 * /go) and the highlight pop-up, shown while the playhead's program date lies inside a highlight's
 * EXT-X-DATERANGE (so it appears with the frame, however far behind live the viewer is).
 */

/** A carousel product as GET /v1/streams/:id/products and the 'products' event give it. */
export interface ShopProduct {
  id: string;
  position: number;
  title: string;
  imageUrl: string | null;
  price: { amount: string; currency: string } | null;
  description: string | null;
  buyUrl: string;
}

/** A highlight range as the page reads it from the playlist (hls.js LevelDetails.dateRanges). */
export interface HighlightRange {
  id: string;
  productId: string;
  startMs: number;
  endMs: number | null;
}

/** The DATERANGE class the server gives highlights. */
export const HIGHLIGHT_CLASS = 'com.showcase.highlight';

/** The price as the shopper's locale writes it, or the raw figures when the currency is unknown. */
function formatPrice(p: { amount: string; currency: string }): string {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: p.currency }).format(Number(p.amount));
  } catch {
    return `${p.amount} ${p.currency}`;
  }
}

/** The highlight the program date falls in (the latest started one, if ranges touch). */
export function activeHighlight(ranges: readonly HighlightRange[], programMs: number): HighlightRange | undefined {
  let best: HighlightRange | undefined;
  for (const r of ranges) {
    if (r.startMs <= programMs && (r.endMs === null || programMs < r.endMs) && (!best || r.startMs > best.startMs)) best = r;
  }
  return best;
}

/**
 * The carousel. Buy links carry the viewer session and the player's time (asked at the tap), so
 * /go counts the click against them; the link's target is the server's /go, never a shop URL.
 */
export class ShopCarousel {
  readonly #list: HTMLElement;
  readonly #section: HTMLElement;
  readonly #clickQuery: () => string;
  #items: ShopProduct[] = [];
  #sold: Record<string, number> = {};

  constructor(section: HTMLElement, list: HTMLElement, clickQuery: () => string) {
    this.#section = section;
    this.#list = list;
    this.#clickQuery = clickQuery;
  }

  /** The products shown, in carousel order. */
  get items(): readonly ShopProduct[] {
    return this.#items;
  }

  /** One product by id. */
  product(id: string): ShopProduct | undefined {
    return this.#items.find((p) => p.id === id);
  }

  /** Replaces the carousel's products. */
  set(items: ShopProduct[]): void {
    this.#items = [...items].sort((a, b) => a.position - b.position);
    this.#list.replaceChildren(...this.#items.map((p) => this.#card(p)));
    this.#section.hidden = this.#items.length === 0;
  }

  /** Shows how many of each product sold during this stream ('sold' events). */
  setSold(counts: Record<string, number>): void {
    this.#sold = counts;
    for (const li of this.#list.querySelectorAll<HTMLElement>('.product')) this.#renderSold(li);
  }

  #renderSold(li: HTMLElement): void {
    const n = this.#sold[li.dataset.productId ?? ''] ?? 0;
    let el = li.querySelector<HTMLElement>('.product-sold');
    if (!n) return el?.remove();
    if (!el) {
      el = document.createElement('p');
      el.className = 'product-sold';
      li.querySelector('.buy')?.before(el);
    }
    el.textContent = `${n} sold`;
  }

  /** A Buy link for a product (also used by the pop-up). */
  buyLink(p: ShopProduct, label = 'Buy'): HTMLAnchorElement {
    const a = document.createElement('a');
    a.className = 'buy';
    a.textContent = label;
    a.href = p.buyUrl;
    a.dataset.productId = p.id;
    // The session and playhead are read at the tap: they change while the page plays.
    a.addEventListener('click', () => {
      a.href = `${p.buyUrl}${this.#clickQuery()}`;
    });
    return a;
  }

  #card(p: ShopProduct): HTMLElement {
    const li = document.createElement('li');
    li.className = 'product';
    li.dataset.productId = p.id;
    if (p.imageUrl) {
      const img = document.createElement('img');
      img.src = p.imageUrl;
      img.alt = '';
      img.loading = 'lazy';
      img.referrerPolicy = 'no-referrer';
      li.append(img);
    }
    const title = document.createElement('p');
    title.className = 'product-title';
    title.textContent = p.title;
    li.append(title);
    if (p.price) {
      const price = document.createElement('p');
      price.className = 'product-price';
      price.textContent = formatPrice(p.price);
      li.append(price);
    }
    li.append(this.buyLink(p));
    this.#renderSold(li);
    return li;
  }
}

/** The pop-up over the video for the highlighted product. */
export class HighlightPopup {
  readonly #el: HTMLElement;
  readonly #carousel: ShopCarousel;
  #shown?: string;

  constructor(el: HTMLElement, carousel: ShopCarousel) {
    this.#el = el;
    this.#carousel = carousel;
  }

  /** The highlight id shown now. */
  get shown(): string | undefined {
    return this.#shown;
  }

  /** Shows the range's product (or hides the pop-up for undefined); true when what is shown changed. */
  show(range: HighlightRange | undefined): boolean {
    const product = range ? this.#carousel.product(range.productId) : undefined;
    const id = product ? range!.id : undefined;
    if (id === this.#shown) return false;
    this.#shown = id;
    if (!product) {
      this.#el.hidden = true;
      this.#el.replaceChildren();
      return true;
    }
    const title = document.createElement('p');
    title.className = 'popup-title';
    title.textContent = product.title;
    this.#el.replaceChildren(title, this.#carousel.buyLink(product, 'Buy now'));
    this.#el.dataset.productId = product.id;
    this.#el.hidden = false;
    return true;
  }
}
