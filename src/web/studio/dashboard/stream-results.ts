/// <reference lib="dom" />
/**
 * A past stream's results on the dashboard: its analytics (GET /v1/streams/:id/analytics: viewers
 * live and in replay, per product clicks and purchases, chat, reactions, followers gained) and the
 * recording's download link (GET /v1/streams/:id/recording). Text goes in as text.
 */
import { ApiError, api } from '../creator-api.js';

/** The figures the panel shows (and the test hook reports). */
export interface StreamResults {
  peak: number;
  average: number;
  replayMinutes: number;
  replayUnique: number;
  messages: number;
  reactions: number;
  followersGained: number;
  products: Array<{ productId: string; title: string; clicks: number; purchases: number }>;
  download: string | null;
}

interface Analytics {
  liveViewers: { peak: number; average: number };
  replayViewers: { unique: number; now: number; watchMinutes: number };
  room?: { messages: number; reactions: number };
  followersGained: number;
  products: Array<{ productId: string; title: string; clicks: number; purchases: number }>;
}

/** "1 click", "2 clicks". */
const n = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

function line(text: string, cls = 'result'): HTMLElement {
  const p = document.createElement('p');
  p.className = cls;
  p.textContent = text;
  return p;
}

/** Loads a stream's results and renders them into host. */
export async function renderStreamResults(host: HTMLElement, token: string, streamId: string): Promise<StreamResults> {
  const id = encodeURIComponent(streamId);
  const [a, rec] = await Promise.all([
    api<Analytics>(token, 'GET', `/v1/streams/${id}/analytics`),
    // No recording (recordings off, or none kept): no link, the rest still shows.
    api<{ state: string; download?: { url: string } | null }>(token, 'GET', `/v1/streams/${id}/recording`).catch((err: unknown) => {
      if (err instanceof ApiError && (err.status === 404 || err.status === 409)) return undefined;
      throw err;
    }),
  ]);
  const r: StreamResults = {
    peak: a.liveViewers.peak, average: a.liveViewers.average, replayMinutes: a.replayViewers.watchMinutes, replayUnique: a.replayViewers.unique,
    messages: a.room?.messages ?? 0, reactions: a.room?.reactions ?? 0, followersGained: a.followersGained,
    products: a.products.map((p) => ({ productId: p.productId, title: p.title, clicks: p.clicks, purchases: p.purchases })),
    download: rec?.download?.url ?? null,
  };
  const parts: HTMLElement[] = [
    line(`Viewers: ${r.peak} at the peak, ${r.average} on average; ${n(r.replayUnique, 'replay viewer')}, ${r.replayMinutes} replay minutes watched`),
    line(`Chat: ${n(r.messages, 'message')}, ${n(r.reactions, 'reaction')}; ${n(r.followersGained, 'new follower')}`),
  ];
  if (r.products.length) {
    const ul = document.createElement('ul');
    ul.className = 'result-products';
    for (const p of r.products) {
      const li = document.createElement('li');
      li.dataset.productId = p.productId;
      li.textContent = `${p.title}: ${n(p.clicks, 'click')}, ${n(p.purchases, 'purchase')}`;
      ul.append(li);
    }
    parts.push(ul);
  }
  if (r.download) {
    const a2 = document.createElement('a');
    a2.className = 'result-download';
    a2.href = r.download;
    a2.textContent = 'Download the recording (MP4)';
    a2.setAttribute('download', '');
    parts.push(a2);
  } else parts.push(line('The recording is not available for download.', 'result result-muted'));
  host.replaceChildren(...parts);
  return r;
}
