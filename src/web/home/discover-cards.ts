/// <reference lib="dom" />
/**
 * Stream cards for the discovery pages (the Live home page, storefronts): title, creator with
 * their level, viewers for a live stream, a live countdown for an upcoming one, the replay for a
 * past one. Text goes in as text, never as HTML.
 */
import { countdownText } from '../watch/countdown.js';

/** A stream as GET /v1/live and the storefront list it. */
export interface ListedStream {
  id: string;
  title: string;
  state: string;
  creator: { id: string; handle: string; displayName: string; level: string } | null;
  level: string;
  scheduledAt: string | null;
  startedAt: string | null;
  endedAt?: string | null;
  viewers?: number;
  watch: string;
  replay?: { watch: string; durationSeconds: number | null } | null;
}

/** Words for a level. */
export const LEVEL_NAMES: Record<string, string> = { 'a-list': 'A-List', insider: 'Insider', 'rising-star': 'Rising Star' };

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A level badge. */
export function levelBadge(level: string): HTMLElement {
  const b = el('span', `level level-${level}`, LEVEL_NAMES[level] ?? level);
  b.dataset.level = level;
  return b;
}

/** One card; a scheduled one carries data-starts-at for tickCountdowns. */
export function streamCard(s: ListedStream, o: { showCreator: boolean; big?: boolean }): HTMLLIElement {
  const li = el('li', `card card-${s.state}${o.big ? ' card-big' : ''}`);
  li.dataset.streamId = s.id;
  li.dataset.level = s.level;
  const link = el('a', 'card-link');
  link.href = s.state === 'ended' && s.replay ? s.replay.watch : s.watch;
  const badge = s.state === 'live' ? el('span', 'badge badge-live', 'Live') : s.state === 'ended' ? (s.replay ? el('span', 'badge badge-replay', 'Replay') : el('span', 'badge badge-ended', 'Ended')) : el('span', 'badge badge-upcoming', 'Upcoming');
  link.append(badge, el('span', 'card-title', s.title || 'Untitled'));
  li.append(link);
  const meta = el('p', 'card-meta');
  if (o.showCreator && s.creator) {
    const who = el('a', 'card-creator', s.creator.displayName);
    who.href = `/c/${encodeURIComponent(s.creator.handle)}`;
    meta.append(who, ' ', levelBadge(s.level));
  }
  if (s.state === 'live' && s.viewers !== undefined) meta.append(el('span', 'card-viewers', `${s.viewers} watching`));
  if (s.state === 'idle' && s.scheduledAt) {
    const c = el('span', 'countdown');
    c.dataset.startsAt = String(Date.parse(s.scheduledAt));
    c.textContent = countdownText(Date.parse(s.scheduledAt), Date.now());
    meta.append(c);
  }
  if (s.state === 'ended') {
    const when = s.startedAt ? new Date(s.startedAt).toLocaleDateString() : '';
    const mins = s.replay?.durationSeconds ? ` · ${Math.round(s.replay.durationSeconds / 60)} min` : '';
    meta.append(el('span', 'card-when', `${when}${mins}`));
  }
  li.append(meta);
  return li;
}

/** Refreshes every countdown under root; answers the texts by stream id (for the test hooks). */
export function tickCountdowns(root: ParentNode, now: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of root.querySelectorAll<HTMLElement>('.countdown[data-starts-at]')) {
    c.textContent = countdownText(Number(c.dataset.startsAt), now);
    const id = c.closest<HTMLElement>('[data-stream-id]')?.dataset.streamId;
    if (id) out[id] = c.textContent;
  }
  return out;
}
