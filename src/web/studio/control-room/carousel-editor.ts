/// <reference lib="dom" />
/**
 * The control room's carousel editor and highlight tap for one stream: add, edit in place, delete
 * and reorder products (/v1/streams/:id/products*), highlight one (POST .../highlights) or end it
 * (DELETE .../highlights/current), with the current highlight shown and 409/429 answers in words.
 */
import { api, explainApiError } from '../creator-api.js';
import { button, folded } from './dom.js';

interface Product {
  id: string; title: string; url: string; position: number;
  imageUrl?: string | null; price?: { amount: string; currency: string } | null; ref?: string | null;
}
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
    currency: el('input', { name: 'currency', defaultValue: 'USD', maxLength: 3, pattern: '[A-Z]{3}', ariaLabel: 'Currency', autocapitalize: 'characters' } as Partial<HTMLInputElement>),
    ref: el('input', { name: 'ref', placeholder: 'Shop ref / SKU (optional)' }) };
  const submit = el('button', { type: 'submit', textContent: 'Add product' });
  const cancel = button('Cancel', 'cancel-edit', () => stopEditing());
  cancel.hidden = true;
  add.append(...Object.values(fields), submit, cancel);
  const addFolded = folded('Add a product', add, true);
  const summary = addFolded.querySelector('summary')!;
  /** The product the form edits (PATCH), or null: the form adds one (POST). */
  let editing: Product | null = null;
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
      const edit = button('Edit', 'edit', () => startEditing(p));
      const del = el('button', { type: 'button', className: 'delete', textContent: 'Delete' });
      del.addEventListener('click', () => { api(token, 'DELETE', `${base}/products/${encodeURIComponent(p.id)}`).then(() => { ok(); return load(); }, fail); });
      li.append(title, hl, up, down, edit, del);
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

  /** Fills the form with a product's fields; Save sends what changed. */
  function startEditing(p: Product): void {
    editing = p;
    fields.title.value = p.title;
    fields.url.value = p.url;
    fields.imageUrl.value = p.imageUrl ?? '';
    fields.price.value = p.price?.amount ?? '';
    fields.currency.value = p.price?.currency ?? 'USD';
    fields.ref.value = p.ref ?? '';
    summary.textContent = `Edit ${p.title}`;
    submit.textContent = 'Save';
    cancel.hidden = false;
    addFolded.open = true;
    fields.title.focus();
  }
  function stopEditing(): void {
    editing = null;
    add.reset();
    summary.textContent = 'Add a product';
    submit.textContent = 'Add product';
    cancel.hidden = true;
  }

  add.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = (f: HTMLInputElement): string | null => f.value.trim() || null;
    const price = v(fields.price) ? { amount: v(fields.price)!, currency: (v(fields.currency) ?? 'USD').toUpperCase() } : null;
    const body: Record<string, unknown> = { title: fields.title.value.trim(), url: fields.url.value.trim(), imageUrl: v(fields.imageUrl), price, ref: v(fields.ref) };
    const p = editing;
    if (p) {
      // Only what changed: a PATCH of an unchanged field would still count as an edit.
      const before: Record<string, unknown> = { title: p.title, url: p.url, imageUrl: p.imageUrl ?? null, price: p.price ?? null, ref: p.ref ?? null };
      for (const k of Object.keys(body)) if (JSON.stringify(body[k]) === JSON.stringify(before[k])) delete body[k];
      if (Object.keys(body).length === 0) return stopEditing();
      api(token, 'PATCH', `${base}/products/${encodeURIComponent(p.id)}`, body).then(() => { ok(); stopEditing(); return load(); }, fail);
      return;
    }
    for (const k of Object.keys(body)) if (body[k] === null) delete body[k];
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
