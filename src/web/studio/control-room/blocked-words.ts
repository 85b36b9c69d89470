/// <reference lib="dom" />
/**
 * The creator's blocked-words list in the control room's chat panel (issue 14): one word or phrase
 * a line, read and saved with GET / PUT /v1/creators/:id/room/blocked-words. It applies to all the creator's rooms at once; the server folds and
 * de-duplicates the words, and the box shows what it kept.
 */
import { api, explainApiError } from '../creator-api.js';
import { el, folded } from './dom.js';

/** What the test hook reports about the list. */
export interface BlockedWordsState {
  words: string[];
  error: string | null;
}

/** Builds the creator's editor into `host`. */
export function mountBlockedWords(host: HTMLElement, token: string, creatorId: string, state: BlockedWordsState): void {
  const form = el('form', { id: 'blocked-words', className: 'blocked-words', autocomplete: 'off' } as Partial<HTMLFormElement>);
  const box = el('textarea', { name: 'words', rows: 4, placeholder: 'One word or phrase a line', spellcheck: false });
  const message = el('p', { className: 'console-message', role: 'status' } as Partial<HTMLParagraphElement>);
  form.append(box, el('button', { type: 'submit', textContent: 'Save blocked words' }), message);
  const fold = folded('Blocked words (all your streams)', form, false);
  fold.hidden = true;
  host.append(fold);
  const fail = (err: unknown): void => { state.error = explainApiError(err); message.textContent = state.error; };
  const path = `/v1/creators/${encodeURIComponent(creatorId)}/room/blocked-words`;
  const show = (words: string[]): void => {
    state.words = words;
    state.error = null;
    message.textContent = '';
    box.value = words.join('\n');
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const words = box.value.split('\n').map((w) => w.trim()).filter(Boolean);
    api<{ words: string[] }>(token, 'PUT', path, { words }).then((r) => { show(r.words); message.textContent = `Saved: ${r.words.length} blocked.`; }, fail);
  });

  api<{ words: string[] }>(token, 'GET', path).then((r) => {
    show(r.words);
    fold.hidden = false;
  }, fail);
}
