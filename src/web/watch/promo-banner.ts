/** A promo as GET /v1/streams/:id/promos and the 'promo' / 'promos' events give it. */
export interface ShopPromo {
  code: string;
  description: string;
  /** Valid only while the stream is live: the page drops it when the stream ends. */
  liveOnly?: boolean;
  /** ISO instants the code is valid between (null: open). */
  startsAt?: string | null;
  endsAt?: string | null;
}

/** Whether the page still shows a promo: inside its dates (the shopper's clock) and, if liveOnly, while live. */
export function promoShown(p: ShopPromo, nowMs: number, live: boolean): boolean {
  if (p.liveOnly && !live) return false;
  if (p.startsAt && Date.parse(p.startsAt) > nowMs) return false;
  if (p.endsAt && Date.parse(p.endsAt) <= nowMs) return false;
  return true;
}

/** A promo's text: its code in bold, then its description. */
function promoText(p: ShopPromo): HTMLParagraphElement {
  const text = document.createElement('p');
  text.className = 'promo-text';
  const code = document.createElement('strong');
  code.className = 'promo-code';
  code.textContent = p.code;
  text.append(code, ` ${p.description}`);
  return text;
}

/** A Copy button for a code: copies it (when the clipboard lets it) and tells onCopy either way. */
function copyButton(code: string, onCopy: (code: string) => void): HTMLButtonElement {
  const copy = document.createElement('button');
  copy.type = 'button';
  copy.className = 'promo-copy';
  copy.dataset.code = code;
  copy.textContent = 'Copy';
  copy.addEventListener('click', () => {
    // The clipboard may be refused (no permission, no secure context): the code stays readable.
    void navigator.clipboard?.writeText(code).then(() => { copy.textContent = 'Copied'; }).catch(() => {});
    onCopy(code);
  });
  return copy;
}

/**
 * The promo the creator put on screen, as a banner with the code and a Copy button (hidden when
 * none). onCopy hears each copy (the page counts it as a reveal).
 */
export class PromoBanner {
  readonly #el: HTMLElement;
  #code: string | null = null;

  /** Renders into el (hidden until a promo is shown). */
  constructor(el: HTMLElement, private readonly onCopy: (code: string) => void = () => {}) {
    this.#el = el;
  }

  /** The code on screen now, or null. */
  get code(): string | null {
    return this.#code;
  }

  /** Shows the promo, or hides the banner for null. */
  show(p: ShopPromo | null): void {
    this.#code = p ? p.code : null;
    this.#el.replaceChildren();
    this.#el.hidden = !p;
    if (!p) return;
    this.#el.append(promoText(p), copyButton(p.code, this.onCopy));
  }
}

/**
 * The stream's promo codes valid now, listed under the carousel, each with a Copy button. Kept by
 * GET .../promos and 'promos' events; liveOnly codes go when the stream ends and dated ones at their
 * end (refresh() re-applies the rules: the page calls it on every state change and every few seconds).
 */
export class PromoList {
  readonly #section: HTMLElement;
  readonly #list: HTMLElement;
  #items: ShopPromo[] = [];
  #shown: string[] = [];

  constructor(section: HTMLElement, list: HTMLElement, private readonly live: () => boolean, private readonly onCopy: (code: string) => void) {
    this.#section = section;
    this.#list = list;
  }

  /** The codes shown now, in order. */
  get codes(): readonly string[] {
    return this.#shown;
  }

  /** Replaces the list (as the API or a 'promos' event gives it). */
  set(items: ShopPromo[]): void {
    this.#items = items;
    this.refresh(Date.now(), true);
  }

  /** Re-renders when what should be shown changed (or always, with force). */
  refresh(now = Date.now(), force = false): void {
    const live = this.live();
    const shown = this.#items.filter((p) => promoShown(p, now, live));
    if (!force && shown.length === this.#shown.length && shown.every((p, i) => p.code === this.#shown[i])) return;
    this.#shown = shown.map((p) => p.code);
    this.#list.replaceChildren(...shown.map((p) => {
      const li = document.createElement('li');
      li.className = 'promo-item';
      li.dataset.code = p.code;
      li.append(promoText(p), copyButton(p.code, this.onCopy));
      return li;
    }));
    this.#section.hidden = shown.length === 0;
  }
}
