/// <reference lib="dom" />
/**
 * The control room's promo codes: create one (POST /v1/streams/:id/promos), put one on screen on
 * the watch pages or take it off (PUT / DELETE .../promos/on-screen, while live), with the code on
 * screen now shown. The list is GET .../promos: the codes valid now, and which one is on screen.
 */
import { api, explainApiError } from '../creator-api.js';
import { button, el, folded } from './dom.js';

interface Promo { code: string; description: string; liveOnly: boolean }

/** What the test hook reports about the promos. */
export interface PromoState {
  codes: string[];
  onScreen: string | null;
  error: string | null;
}

/** What the control room calls on the promo panel. */
export interface PromoControls {
  /** Reads the list again (the stream went live or ended: live-only codes come and go). */
  reload(): void;
  /** Follows a promo put on or taken off screen elsewhere (the events feed: another device, the API). */
  applyOnScreen(code: string | null): void;
}

/** Builds the promo panel for `streamId` into `host`. */
export function mountPromoControls(host: HTMLElement, token: string, streamId: string, state: PromoState): PromoControls {
  const base = `/v1/streams/${encodeURIComponent(streamId)}/promos`;
  const message = el('p', { className: 'console-message', role: 'status' } as Partial<HTMLParagraphElement>);
  const current = el('p', { className: 'promo-on-screen', id: 'promo-on-screen', textContent: 'No promo on screen' });
  const off = button('Take off screen', 'promo-off', () => {
    api(token, 'DELETE', `${base}/on-screen`).then(() => { ok(); state.onScreen = null; render(); }, fail);
  });
  off.id = 'promo-off';
  const list = el('ul', { className: 'promo-items', id: 'promo-items' });
  const form = el('form', { id: 'add-promo', className: 'add-promo', autocomplete: 'off' } as Partial<HTMLFormElement>);
  const code = el('input', { name: 'code', placeholder: 'Code, e.g. LIVE20', required: true, maxLength: 32, pattern: '[A-Za-z0-9_\\-]{1,32}', autocapitalize: 'characters' } as Partial<HTMLInputElement>);
  const description = el('input', { name: 'description', placeholder: 'What it gives, e.g. 20 % off', required: true, maxLength: 200 });
  const liveOnly = el('input', { name: 'liveOnly', type: 'checkbox' });
  const liveOnlyLabel = el('label', { textContent: ' Only while live' });
  liveOnlyLabel.prepend(liveOnly);
  form.append(code, description, liveOnlyLabel, el('button', { type: 'submit', textContent: 'Create promo' }));
  const formFolded = folded('New promo code', form, true);
  host.append(el('h2', { textContent: 'Promo codes' }), message, current, off, list, formFolded);

  let promos: Promo[] = [];
  const fail = (err: unknown): void => { state.error = explainApiError(err); message.textContent = state.error; };
  const ok = (): void => { state.error = null; message.textContent = ''; };

  function render(): void {
    state.codes = promos.map((p) => p.code);
    const shown = promos.find((p) => p.code === state.onScreen);
    current.textContent = state.onScreen ? `On screen: ${state.onScreen}${shown ? ` · ${shown.description}` : ''}` : 'No promo on screen';
    off.disabled = !state.onScreen;
    list.replaceChildren(...promos.map((p) => {
      const li = el('li');
      li.dataset.code = p.code;
      const onScreen = p.code === state.onScreen;
      li.classList.toggle('on-screen', onScreen);
      const show = button(onScreen ? 'On screen' : 'Show on screen', 'promo-show', () => {
        api<Promo>(token, 'PUT', `${base}/on-screen`, { code: p.code }).then((shownNow) => { ok(); state.onScreen = shownNow.code; render(); }, fail);
      });
      show.disabled = onScreen;
      li.append(el('strong', { className: 'promo-code', textContent: p.code }), ` ${p.description}${p.liveOnly ? ' (live only)' : ''} `, show);
      return li;
    }));
  }

  let loaded = false;
  async function load(): Promise<void> {
    try {
      const r = await api<{ items: Promo[]; onScreen: string | null }>(token, 'GET', base);
      promos = r.items;
      state.onScreen = r.onScreen;
      if (!loaded && promos.length > 0) formFolded.open = false;
      loaded = true;
      render();
    } catch (err) {
      fail(err);
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = { code: code.value.trim(), description: description.value.trim(), liveOnly: liveOnly.checked };
    api(token, 'POST', base, body).then(() => { ok(); form.reset(); return load(); }, fail);
  });
  render();
  void load();
  return {
    reload: () => void load(),
    applyOnScreen(code: string | null): void {
      if (code === state.onScreen) return;
      state.onScreen = code;
      // A code created on another device is not in the list yet.
      if (code !== null && !promos.some((p) => p.code === code)) void load();
      else render();
    },
  };
}
