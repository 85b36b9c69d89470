/// <reference lib="dom" />
/**
 * A creator's storefront (/c/:handle), phone-first: name, level and follower count, the follow
 * button (the shopper on this device, as the watch page's chat makes it), live now, upcoming with
 * countdowns, and past lives with their replays, more on "Show more" (the API's cursor).
 * window.__storefront is the test hook.
 */
import { levelBadge, streamCard, tickCountdowns, type ListedStream } from '../home/discover-cards.js';
import { mountFollowButton, type FollowState } from '../watch/follow-button.js';

interface StorefrontHook {
  loaded: boolean;
  level: string | null;
  followerCount: number | null;
  live: string[];
  upcoming: string[];
  past: string[];
  replays: number;
  nextCursor: string | null;
  countdowns: Record<string, string>;
  follow: FollowState;
  error: string | null;
}

declare global {
  interface Window { __storefront: StorefrontHook }
}

interface Storefront {
  creator: { id: string; level: string; followerCount: number };
  live: ListedStream[];
  upcoming: ListedStream[];
  past: { items: ListedStream[]; nextCursor: string | null };
}

function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`storefront: #${id} missing`);
  return e as T;
}

const config = JSON.parse(byId('showcase-config').textContent || '{}') as { handle: string; creatorId: string; displayName: string; api: string };
const followers = byId('followers');
const more = byId<HTMLButtonElement>('more');
const notice = byId('notice');
const setCount = (n: number): void => {
  hook.followerCount = n;
  followers.textContent = `${n} follower${n === 1 ? '' : 's'}`;
};
const hook: StorefrontHook = {
  loaded: false, level: null, followerCount: null, live: [], upcoming: [], past: [], replays: 0, nextCursor: null, countdowns: {},
  follow: mountFollowButton(byId('follow'), config.creatorId, setCount), error: null,
};
window.__storefront = hook;

async function fetchPage(cursor: string | null): Promise<Storefront> {
  const res = await fetch(cursor ? `${config.api}?cursor=${encodeURIComponent(cursor)}` : config.api, { cache: 'no-store' });
  if (!res.ok) throw new Error(`The storefront is unavailable (${res.status})`);
  return await res.json() as Storefront;
}

function showPast(items: ListedStream[], append: boolean): void {
  const cards = items.map((s) => streamCard(s, { showCreator: false }));
  if (append) byId('past').append(...cards);
  else byId('past').replaceChildren(...cards);
  hook.past = append ? [...hook.past, ...items.map((s) => s.id)] : items.map((s) => s.id);
  hook.replays = document.querySelectorAll('#past .badge-replay').length;
  byId('past-empty').hidden = hook.past.length > 0;
}

async function load(): Promise<void> {
  try {
    const d = await fetchPage(null);
    byId('level').replaceChildren(levelBadge(d.creator.level));
    hook.level = d.creator.level;
    if (hook.followerCount === null || !hook.follow.busy) setCount(d.creator.followerCount);
    byId('live-row').hidden = d.live.length === 0;
    byId('upcoming-row').hidden = d.upcoming.length === 0;
    byId('live').replaceChildren(...d.live.map((s) => streamCard(s, { showCreator: false })));
    byId('upcoming').replaceChildren(...d.upcoming.map((s) => streamCard(s, { showCreator: false })));
    hook.live = d.live.map((s) => s.id);
    hook.upcoming = d.upcoming.map((s) => s.id);
    // A refresh keeps the pages the shopper opened: only the first one is replaced when nothing more was read.
    if (!hook.loaded || hook.past.length <= d.past.items.length) {
      showPast(d.past.items, false);
      hook.nextCursor = d.past.nextCursor;
      more.hidden = !d.past.nextCursor;
    }
    hook.loaded = true;
    hook.error = null;
    notice.textContent = '';
  } catch (err) {
    hook.error = (err as Error).message;
    notice.textContent = "Can't load this storefront right now: retrying.";
  }
  hook.countdowns = tickCountdowns(document, Date.now());
}

more.addEventListener('click', () => {
  if (!hook.nextCursor) return;
  more.disabled = true;
  void fetchPage(hook.nextCursor).then((d) => {
    showPast(d.past.items, true);
    hook.nextCursor = d.past.nextCursor;
    more.hidden = !d.past.nextCursor;
  }, (err: Error) => { notice.textContent = err.message; }).finally(() => { more.disabled = false; });
});

void load();
setInterval(() => void load(), 30_000);
setInterval(() => { hook.countdowns = tickCountdowns(document, Date.now()); }, 1000);
