/// <reference lib="dom" />
/**
 * The dashboard's stream list: the creator's streams (GET /v1/streams) grouped upcoming
 * (scheduledAt in the future), live and past, each linking to its control room
 * (/studio?stream=<id>); a past one has a Results button (src/web/studio/dashboard/stream-results.ts).
 * Text goes in as text, never HTML.
 */
import { api } from '../creator-api.js';

/** The fields of a stream the list shows. */
export interface StreamSummary {
  id: string;
  title?: string | null;
  state: string;
  scheduledAt?: string | null;
  practice?: boolean;
}

export type StreamGroup = 'upcoming' | 'live' | 'past';

/** Which group a stream belongs in at `now` (ms). */
export function groupOf(s: StreamSummary, now: number): StreamGroup {
  if (s.state === 'live' || s.state === 'reconnecting') return 'live';
  if (s.state === 'ended' || s.state === 'stopped') return 'past';
  if (s.scheduledAt && Date.parse(s.scheduledAt) > now) return 'upcoming';
  return s.state === 'idle' ? 'upcoming' : 'past';
}

/** Bounded: the dashboard reads at most this many pages of streams. */
const MAX_PAGES = 10;

/** All of the creator's streams, following nextCursor a bounded number of times. */
export async function fetchStreams(token: string): Promise<StreamSummary[]> {
  const out: StreamSummary[] = [];
  let cursor: string | null | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const q = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
    const page = await api<{ items: StreamSummary[]; nextCursor?: string | null }>(token, 'GET', `/v1/streams${q}`);
    out.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return out;
}

/** Renders the three groups into `host`; answers how many streams landed in each. */
export function renderStreams(host: HTMLElement, streams: StreamSummary[], now: number): Record<StreamGroup, number> {
  const counts: Record<StreamGroup, number> = { upcoming: 0, live: 0, past: 0 };
  host.replaceChildren();
  for (const group of ['live', 'upcoming', 'past'] as const) {
    const items = streams.filter((s) => groupOf(s, now) === group);
    counts[group] = items.length;
    const section = document.createElement('section');
    section.className = `stream-group stream-group-${group}`;
    section.dataset.group = group;
    const h = document.createElement('h2');
    h.textContent = `${group[0]!.toUpperCase()}${group.slice(1)} (${items.length})`;
    section.append(h);
    const ul = document.createElement('ul');
    for (const s of items) {
      const li = document.createElement('li');
      li.dataset.streamId = s.id;
      const a = document.createElement('a');
      a.href = `/studio?stream=${encodeURIComponent(s.id)}`;
      a.textContent = s.title || s.id;
      li.append(a);
      const meta = document.createElement('span');
      meta.className = 'stream-meta';
      meta.textContent = [s.practice ? 'practice' : '', s.scheduledAt ? new Date(s.scheduledAt).toLocaleString() : ''].filter(Boolean).join(' · ');
      li.append(' ', meta);
      if (group === 'past') {
        // The dashboard opens the stream's results (analytics, download) here.
        const more = document.createElement('button');
        more.type = 'button';
        more.className = 'show-results';
        more.dataset.streamId = s.id;
        more.textContent = 'Results';
        const results = document.createElement('div');
        results.className = 'stream-results';
        results.hidden = true;
        li.append(' ', more, results);
      }
      ul.append(li);
    }
    section.append(ul);
    host.append(section);
  }
  return counts;
}
