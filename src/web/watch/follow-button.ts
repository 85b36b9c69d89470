/// <reference lib="dom" />
/**
 * The follow button (watch page, storefront): follows a creator as the shopper on this device
 * (src/web/watch/shopper.ts). Without one it asks for a display name first and creates the
 * shopper, as the chat's join does, then follows. A second tap unfollows. Text only, never HTML.
 */
import { createShopper, forgetShopper, storedShopper, type Shopper } from './shopper.js';
import { subscribeToPush } from '../push/subscribe.js';

/** What the test hooks show of a follow button. */
export interface FollowState {
  following: boolean;
  followerCount: number | null;
  busy: boolean;
  error: string | null;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Builds the button into `root` for creatorId; onCount hears each new follower count. */
export function mountFollowButton(root: HTMLElement, creatorId: string, onCount?: (n: number) => void): FollowState {
  const state: FollowState = { following: false, followerCount: null, busy: false, error: null };
  const button = el('button', 'follow-button', 'Follow');
  button.type = 'button';
  const form = el('form', 'follow-join');
  form.hidden = true;
  const name = el('input', 'follow-name');
  name.placeholder = 'Your name';
  name.maxLength = 32;
  name.autocomplete = 'off';
  name.setAttribute('aria-label', 'Your name, to follow');
  const go = el('button', 'follow-go', 'Follow');
  go.type = 'submit';
  form.append(name, go);
  const notice = el('span', 'follow-notice');
  root.append(button, form, notice);
  const path = `/v1/creators/${encodeURIComponent(creatorId)}/followers/me`;

  const render = (): void => {
    button.textContent = state.following ? 'Following' : 'Follow';
    button.classList.toggle('following', state.following);
    button.setAttribute('aria-pressed', String(state.following));
    button.disabled = state.busy;
    notice.textContent = state.error ?? '';
  };
  const call = async (me: Shopper, method: 'GET' | 'PUT' | 'DELETE'): Promise<void> => {
    const res = await fetch(path, { method, headers: { authorization: `Bearer ${me.token}` }, cache: 'no-store' });
    if (res.status === 401) {
      // The shopper is gone on the server: forget it, the next tap makes a new one.
      forgetShopper();
      state.following = false;
      throw new Error('Please enter your name again to follow');
    }
    if (method === 'DELETE') {
      if (res.status !== 204) throw new Error('Could not unfollow');
      state.following = false;
      if (state.followerCount !== null) onCount?.((state.followerCount = Math.max(0, state.followerCount - 1)));
      return;
    }
    const body = await res.json().catch(() => ({})) as { following?: boolean; followerCount?: number; error?: { message: string } };
    if (!res.ok) throw new Error(body.error?.message ?? 'Could not follow');
    state.following = body.following === true;
    if (typeof body.followerCount === 'number') onCount?.((state.followerCount = body.followerCount));
    // A new follow also asks for go-live notifications on this browser (never blocks or fails the follow).
    if (method === 'PUT' && state.following) void subscribeToPush(me.token);
  };
  const run = (job: () => Promise<void>): void => {
    state.busy = true;
    state.error = null;
    render();
    void job().catch((err: Error) => { state.error = err.message; }).finally(() => {
      state.busy = false;
      render();
    });
  };

  button.addEventListener('click', () => {
    const me = storedShopper();
    if (!me) {
      form.hidden = false;
      name.focus();
      return;
    }
    run(() => call(me, state.following ? 'DELETE' : 'PUT'));
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const displayName = name.value.trim();
    if (!displayName) return;
    run(async () => {
      const me = await createShopper(displayName);
      form.hidden = true;
      name.value = '';
      await call(me, 'PUT');
    });
  });

  const me = storedShopper();
  if (me) run(() => call(me, 'GET'));
  render();
  return state;
}
