/// <reference lib="dom" />
/**
 * The Live home page (/): the featured slot (an A-List creator live now), "Live now" and
 * "Upcoming" rows in placement order as GET /v1/live gives them, countdowns ticking every second,
 * the lists refreshed every 15 s. window.__home is the test hook.
 */
import { streamCard, tickCountdowns, type ListedStream } from './discover-cards.js';

interface HomeHook {
  loaded: boolean;
  featured: string | null;
  live: string[];
  upcoming: string[];
  countdowns: Record<string, string>;
  error: string | null;
}

declare global {
  interface Window { __home: HomeHook }
}

function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`home page: #${id} missing`);
  return e as T;
}

const config = JSON.parse(byId('showcase-config').textContent || '{}') as { live: string };
const hook: HomeHook = { loaded: false, featured: null, live: [], upcoming: [], countdowns: {}, error: null };
window.__home = hook;
const featured = byId('featured');
const live = byId('live');
const upcoming = byId('upcoming');
const notice = byId('notice');

async function load(): Promise<void> {
  try {
    const res = await fetch(config.live, { cache: 'no-store' });
    if (!res.ok) throw new Error(`The list is unavailable (${res.status})`);
    const d = await res.json() as { featured: ListedStream | null; live: ListedStream[]; upcoming: ListedStream[] };
    featured.hidden = !d.featured;
    featured.replaceChildren(...(d.featured ? [streamCard(d.featured, { showCreator: true, big: true })] : []));
    // The featured stream has the slot on top; the row holds the others.
    const rest = d.live.filter((s) => s.id !== d.featured?.id);
    live.replaceChildren(...rest.map((s) => streamCard(s, { showCreator: true })));
    upcoming.replaceChildren(...d.upcoming.map((s) => streamCard(s, { showCreator: true })));
    byId('live-empty').hidden = d.live.length > 0;
    byId('upcoming-empty').hidden = d.upcoming.length > 0;
    Object.assign(hook, { loaded: true, featured: d.featured?.id ?? null, live: d.live.map((s) => s.id), upcoming: d.upcoming.map((s) => s.id), error: null });
    notice.textContent = '';
  } catch (err) {
    hook.error = (err as Error).message || 'Could not load';
    notice.textContent = "Can't load the lives right now: retrying.";
  }
  hook.countdowns = tickCountdowns(document, Date.now());
}

void load();
setInterval(() => void load(), 15_000);
setInterval(() => { hook.countdowns = tickCountdowns(document, Date.now()); }, 1000);
