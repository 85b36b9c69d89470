/// <reference lib="dom" />
/**
 * The creator console under the publisher: sign in with the creator token (kept on the device),
 * then the level panel (level and progress, GET /v1/creators/me/stats), the stream list with each
 * past stream's results (analytics, download link) and a create/schedule form (POST /v1/streams).
 * A refused token signs out with a clear message.
 */
import { ApiError, api, clearToken, explainApiError, loadToken, saveToken } from '../creator-api.js';
import { fetchStreams, renderStreams, type StreamGroup } from './stream-list.js';
import { renderLevelPanel } from './level-panel.js';
import { renderStreamResults, type StreamResults } from './stream-results.js';

/** What the test hook reports about the console. */
export interface ConsoleState {
  signedIn: boolean;
  counts: Record<StreamGroup, number>;
  error: string | null;
  /** The level held now and the words of the progress panel, once read. */
  level?: string | null;
  progress?: string | null;
  /** Results opened, by stream id. */
  results?: Record<string, StreamResults>;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}): HTMLElementTagNameMap[K] {
  return Object.assign(document.createElement(tag), props);
}

/** Builds the console into `host` and keeps `state` current. */
export function mountDashboard(host: HTMLElement, state: ConsoleState): void {
  const message = el('p', { className: 'console-message', role: 'status' } as Partial<HTMLParagraphElement>);
  const signIn = el('form', { className: 'sign-in', autocomplete: 'off' } as Partial<HTMLFormElement>);
  const tokenInput = el('input', { type: 'password', name: 'creator-token', placeholder: 'Creator token', required: true, id: 'creator-token' });
  signIn.append(el('label', { htmlFor: 'creator-token', textContent: 'Creator token' }), tokenInput, el('button', { type: 'submit', textContent: 'Sign in' }));

  const list = el('div', { className: 'stream-list', id: 'stream-list' });
  const create = el('form', { className: 'create-stream', id: 'create-stream' });
  const title = el('input', { name: 'title', placeholder: 'Title', required: true, maxLength: 200 });
  const when = el('input', { name: 'scheduledAt', type: 'datetime-local' });
  const practice = el('input', { name: 'practice', type: 'checkbox' });
  const practiceLabel = el('label', { textContent: ' Practice (only you can see it)' });
  practiceLabel.prepend(practice);
  create.append(title, when, practiceLabel, el('button', { type: 'submit', textContent: 'Create stream' }));
  const signOut = el('button', { type: 'button', textContent: 'Sign out', className: 'sign-out' });
  const signedIn = el('div', { className: 'console-signed-in', hidden: true });
  const levelPanel = el('section', { className: 'level-panel', id: 'level-panel' });
  signedIn.append(levelPanel, create, list, signOut);
  host.append(message, signIn, signedIn);

  let token = loadToken();

  const show = (err: unknown): void => {
    state.error = explainApiError(err);
    message.textContent = state.error;
    if (err instanceof ApiError && err.status === 401) {
      clearToken();
      token = undefined;
      render();
    }
  };
  const refresh = async (): Promise<void> => {
    if (!token) return;
    try {
      state.counts = renderStreams(list, await fetchStreams(token), Date.now());
      const stats = await renderLevelPanel(levelPanel, token);
      state.level = stats.level;
      state.progress = levelPanel.querySelector('.level-progress')?.textContent ?? null;
      state.signedIn = true;
      state.error = null;
      message.textContent = '';
    } catch (err) {
      show(err);
    }
    render();
  };
  function render(): void {
    signIn.hidden = state.signedIn && !!token;
    signedIn.hidden = !signIn.hidden;
    if (!token) state.signedIn = false;
  }

  signIn.addEventListener('submit', (e) => {
    e.preventDefault();
    token = tokenInput.value.trim();
    tokenInput.value = '';
    saveToken(token);
    void refresh();
  });
  list.addEventListener('click', (e) => {
    const button = (e.target as HTMLElement).closest<HTMLButtonElement>('button.show-results');
    const host = button?.parentElement?.querySelector<HTMLElement>('.stream-results');
    const id = button?.dataset.streamId;
    if (!token || !host || !id) return;
    host.hidden = !host.hidden;
    if (host.hidden) return;
    host.textContent = 'Loading…';
    renderStreamResults(host, token, id).then((r) => { state.results = { ...state.results, [id]: r }; }, (err: unknown) => {
      host.textContent = explainApiError(err);
    });
  });
  signOut.addEventListener('click', () => { clearToken(); token = undefined; render(); });
  create.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!token) return;
    const body: Record<string, unknown> = { title: title.value.trim(), practice: practice.checked };
    if (when.value) body.scheduledAt = new Date(when.value).toISOString();
    api(token, 'POST', '/v1/streams', body).then(() => { create.reset(); return refresh(); }, show);
  });
  render();
  void refresh();
}
