/// <reference lib="dom" />
import type { Rendition } from './player.js';

/** Formats a bitrate in bits per second for a shopper ("1.4 Mbps", "300 kbps"). */
export function formatBitrate(bps: number): string {
  return bps >= 1_000_000 ? `${(bps / 1_000_000).toFixed(1)} Mbps` : `${Math.round(bps / 1000)} kbps`;
}

/**
 * The quality menu: "Auto" plus one entry per rendition (highest first). Choosing an entry calls
 * onSelect with the rendition index, or -1 for automatic selection.
 */
export class QualityMenu {
  readonly #button: HTMLButtonElement;
  readonly #list: HTMLElement;
  readonly #onSelect: (index: number) => void;
  #levels: Rendition[] = [];
  #selected = -1;
  #playing = -1;

  constructor(button: HTMLButtonElement, list: HTMLElement, onSelect: (index: number) => void) {
    this.#button = button;
    this.#list = list;
    this.#onSelect = onSelect;
    button.addEventListener('click', (e) => {
      e.stopPropagation();
      this.#setOpen(this.#list.hidden);
    });
    document.addEventListener('click', (e) => {
      if (!this.#list.hidden && !this.#list.contains(e.target as Node)) this.#setOpen(false);
    });
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !this.#list.hidden) {
        this.#setOpen(false);
        this.#button.focus();
      }
    });
  }

  /** Shows the renditions the player found (hidden when there is nothing to choose). */
  setLevels(levels: Rendition[]): void {
    this.#levels = levels;
    this.#button.hidden = levels.length < 2;
    this.#render();
  }

  /** The rendition actually playing (shown next to "Auto"). */
  setPlaying(index: number): void {
    this.#playing = index;
    this.#renderButton();
  }

  /** Forgets the renditions (player gone). */
  reset(): void {
    this.#levels = [];
    this.#selected = -1;
    this.#playing = -1;
    this.#button.hidden = true;
    this.#setOpen(false);
    this.#render();
  }

  #setOpen(open: boolean): void {
    this.#list.hidden = !open;
    this.#button.setAttribute('aria-expanded', String(open));
    if (open) (this.#list.querySelector('[aria-checked="true"]') as HTMLElement | null)?.focus();
  }

  #renderButton(): void {
    const playing = this.#levels[this.#playing];
    this.#button.textContent = this.#selected < 0 ? `Auto${playing ? ` · ${playing.name}` : ''}` : (this.#levels[this.#selected]?.name ?? 'Quality');
  }

  #render(): void {
    this.#list.replaceChildren();
    const entries = [{ index: -1, label: 'Auto', detail: '' }, ...[...this.#levels].sort((a, b) => b.height - a.height || b.bitrate - a.bitrate).map((l) => ({ index: l.index, label: l.name, detail: formatBitrate(l.bitrate) }))];
    for (const e of entries) {
      const li = document.createElement('li');
      li.setAttribute('role', 'none');
      const b = document.createElement('button');
      b.type = 'button';
      b.setAttribute('role', 'menuitemradio');
      b.setAttribute('aria-checked', String(e.index === this.#selected));
      b.dataset.level = String(e.index);
      b.textContent = e.label;
      if (e.detail) {
        const small = document.createElement('small');
        small.textContent = e.detail;
        b.append(' ', small);
      }
      b.addEventListener('click', (ev) => {
        ev.stopPropagation();
        this.#selected = e.index;
        this.#setOpen(false);
        this.#render();
        this.#onSelect(e.index);
      });
      li.append(b);
      this.#list.append(li);
    }
    this.#renderButton();
  }
}
