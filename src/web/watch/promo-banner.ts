/** A promo as GET /v1/streams/:id/promos and the 'promo' event give it. */
export interface ShopPromo {
  code: string;
  description: string;
}

/**
 * The promo the creator put on screen, as a banner with the code and a Copy button (hidden when
 * none). onCopy hears each copy (the reveal count comes later).
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
    const text = document.createElement('p');
    text.className = 'promo-text';
    const code = document.createElement('strong');
    code.className = 'promo-code';
    code.textContent = p.code;
    text.append(code, ` ${p.description}`);
    const copy = document.createElement('button');
    copy.type = 'button';
    copy.className = 'promo-copy';
    copy.textContent = 'Copy';
    copy.addEventListener('click', () => {
      // The clipboard may be refused (no permission, no secure context): the code stays readable.
      void navigator.clipboard?.writeText(p.code).then(() => { copy.textContent = 'Copied'; }).catch(() => {});
      this.onCopy(p.code);
    });
    this.#el.append(text, copy);
  }
}
