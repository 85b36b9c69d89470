/// <reference lib="dom" />
/**
 * The control room's carousel editor and highlight tap for one stream: add, delete and reorder
 * products (/v1/streams/:id/products*), highlight one (POST .../highlights) or end it
 * (DELETE .../highlights/current), with the current highlight shown and 409/429 answers in words.
 */
import { api, explainApiError } from '../creator-api.js';
import { folded } from './dom.js';

interface Product { id: string; title: string; url: string; position: number }
export interface Highlight { id: string; productId: string; endDate: string | null }

/** What the test hook reports about the control room. */
export interface ControlRoomState {
  streamId: string;
  productIds: string[];
  highlight: { id: string; productId: string } | null;
  error: string | null;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}): HTMLElementTagNameMap[K] {
  return Object.assign(document.createElement(tag), props);
}

/** What the other control-room panels read from the editor. */
export interface CarouselEditor {
  /** The carousel's products in order, as last read. */
  products(): ReadonlyArray<{ id: string; title: string }>;
  /** Reads the products and the current highlight again. */
  reload(): void;
  /** Follows a highlight that started or ended elsewhere (the events feed: another device, the API). */
  applyHighlight(h: Highlight): void;
}

/** Builds the editor for `state.streamId` into `host`. */
export function mountCarouselEditor(host: HTMLElement, token: string, state: ControlRoomState): CarouselEditor {
  const base = `/v1/streams/${encodeURIComponent(state.streamId)}`;
  const message = el('p', { className: 'console-message', role: 'status' } as Partial<HTMLParagraphElement>);
  const current = el('p', { className: 'current-highlight', id: 'current-highlight', textContent: 'No product highlighted' });
  const endButton = el('button', { type: 'button', id: 'end-highlight', textContent: 'End highlight', disabled: true });
  const list = el('ol', { className: 'carousel-items', id: 'carousel-items' });
  const add = el('form', { id: 'add-product', className: 'add-product' });
  const fields = { title: el('input', { name: 'title', placeholder: 'Title', required: true, maxLength: 200 }),
    url: el('input', { name: 'url', type: 'url', placeholder: 'https://shop…', required: true }),
    imageUrl: el('input', { name: 'imageUrl', type: 'url', placeholder: 'Image URL (optional)' }),
    price: el('input', { name: 'price', placeholder: 'Price, e.g. 19.99 (optional)', inputMode: 'decimal' }),
    ref: el('input', { name: 'ref', placeholder: 'Shop ref / SKU (optional)' }) };
  add.append(...Object.values(fields), el('button', { type: 'submit', textContent: 'Add product' }));
  const addFolded = folded('Add a product', add, true);
  host.append(el('h2', { textContent: 'Products' }), message, current, endButton, list, addFolded);

  let products: Product[] = [];
  const fail = (err: unknown): void => { state.error = explainApiError(err); message.textContent = state.error; };
  const ok = (): void => { state.error = null; message.textContent = ''; };

  function showHighlight(): void {
    const p = products.find((x) => x.id === state.highlight?.productId);
    current.textContent = state.highlight ? `Highlighted: ${p?.title ?? state.highlight.productId}` : 'No product highlighted';
    endButton.disabled = !state.highlight;
    for (const li of list.children) {
      const on = (li as HTMLElement).dataset.productId === state.highlight?.productId;
      li.classList.toggle('highlighted', on);
      const b = li.querySelector('button.highlight');
      if (b) b.textContent = on ? 'Highlighted' : 'Highlight';
    }
  }
  function render(): void {
    state.productIds = products.map((p) => p.id);
    list.replaceChildren(...products.map((p, i) => {
      const li = el('li');
      li.dataset.productId = p.id;
      const title = el('span', { className: 'product-title', textContent: p.title });
      const hl = el('button', { type: 'button', className: 'highlight', textContent: 'Highlight' });
      hl.addEventListener('click', () => { api<Highlight>(token, 'POST', `${base}/highlights`, { productId: p.id }).then((h) => { ok(); state.highlight = { id: h.id, productId: h.productId }; showHighlight(); }, fail); });
      const up = el('button', { type: 'button', className: 'up', textContent: '↑', disabled: i === 0, ariaLabel: 'Move up' });
      const down = el('button', { type: 'button', className: 'down', textContent: '↓', disabled: i === products.length - 1, ariaLabel: 'Move down' });
      up.addEventListener('click', () => move(i, -1));
      down.addEventListener('click', () => move(i, 1));
      const del = el('button', { type: 'button', className: 'delete', textContent: 'Delete' });
      del.addEventListener('click', () => { api(token, 'DELETE', `${base}/products/${encodeURIComponent(p.id)}`).then(() => { ok(); return load(); }, fail); });
      li.append(title, hl, up, down, del);
      return li;
    }));
    showHighlight();
  }
  function move(i: number, by: number): void {
    const ids = products.map((p) => p.id);
    [ids[i], ids[i + by]] = [ids[i + by]!, ids[i]!];
    api(token, 'PUT', `${base}/products/order`, { ids }).then(() => { ok(); return load(); }, fail);
  }
  let loaded = false;
  async function load(): Promise<void> {
    try {
      products = (await api<{ items: Product[] }>(token, 'GET', `${base}/products`)).items;
      // Folded once there are products to highlight (the first read only: then the creator decides).
      if (!loaded && products.length > 0) addFolded.open = false;
      loaded = true;
      const hs = (await api<{ items: Highlight[] }>(token, 'GET', `${base}/highlights`)).items;
      const open = hs.find((h) => h.endDate === null);
      state.highlight = open ? { id: open.id, productId: open.productId } : null;
      render();
    } catch (err) {
      fail(err);
    }
  }

  add.addEventListener('submit', (e) => {
    e.preventDefault();
    const body: Record<string, unknown> = { title: fields.title.value.trim(), url: fields.url.value.trim() };
    if (fields.imageUrl.value.trim()) body.imageUrl = fields.imageUrl.value.trim();
    if (fields.price.value.trim()) body.price = { amount: fields.price.value.trim(), currency: 'USD' };
    if (fields.ref.value.trim()) body.ref = fields.ref.value.trim();
    api(token, 'POST', `${base}/products`, body).then(() => { ok(); add.reset(); return load(); }, fail);
  });
  endButton.addEventListener('click', () => {
    api(token, 'DELETE', `${base}/highlights/current`).then(() => { ok(); state.highlight = null; showHighlight(); }, fail);
  });
  void load();
  return {
    products: () => products,
    reload: () => void load(),
    applyHighlight(h: Highlight): void {
      // The feed's events come in order: a start makes it current, its end clears it.
      if (h.endDate === null) state.highlight = { id: h.id, productId: h.productId };
      else if (state.highlight?.id === h.id) state.highlight = null;
      else return;
      showHighlight();
    },
  };
}
