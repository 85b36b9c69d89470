/// <reference lib="dom" />
/** Small DOM helpers for the control room's panels: text always goes in as text, never HTML. */

/** An element with its properties set. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}): HTMLElementTagNameMap[K] {
  return Object.assign(document.createElement(tag), props);
}

/**
 * A form folded under a summary line (a phone's screen is for the buttons used while live), open
 * from the start when `open`; once the creator opens or closes it, it stays so.
 */
export function folded(summary: string, form: HTMLFormElement, open: boolean): HTMLDetailsElement {
  const d = el('details', { className: 'folded', open });
  d.append(el('summary', { textContent: summary }), form);
  return d;
}

/** A type=button button that calls onClick when tapped. */
export function button(text: string, className: string, onClick: () => void): HTMLButtonElement {
  const b = el('button', { type: 'button', className, textContent: text });
  b.addEventListener('click', onClick);
  return b;
}
