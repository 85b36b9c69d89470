/// <reference lib="dom" />
/**
 * The control room's live counts: clicks (GET /go) and purchases (conversions) per product and in
 * total, read from GET /v1/streams/:id/analytics every few seconds. Polled rather than taken from
 * the events feed: the feed is public and carries no clicks (a pushed event per click to every
 * watcher would cost fan-out for a figure only the creator sees), while analytics is the
 * owner-only truth with both, stored, so a reload or a second device shows the same numbers.
 * Also the promo codes' reveals and redemptions, and the stream's switch for the "N sold" shoppers
 * see on the carousel (GET / PATCH /v1/streams/:id/commerce).
 */
import { api, explainApiError } from '../creator-api.js';
import { el } from './dom.js';
import { startPoller } from './poller.js';

/** How often the counts are read (ms); a hidden tab skips its reads. */
export const ANALYTICS_POLL_MS = 3000;

interface Tally { clicks: number; purchases: number; revenue: Record<string, string> }
interface Analytics {
  state: string;
  currentViewers: number;
  commerce?: Tally & { byProduct: Array<Tally & { productId: string }>; promoReveals?: Record<string, number>; promoRedemptions?: Record<string, number> };
  room?: { messages: number; reactions: number };
}

/** What the test hook reports about the counts. */
export interface LiveCountsState {
  /** The stream's state as analytics last said. */
  state: string | null;
  clicks: number;
  purchases: number;
  byProduct: Record<string, { clicks: number; purchases: number }>;
  /** Per promo code: reveals (copies on the watch page) and redemptions (conversions with the code). */
  promos: Record<string, { reveals: number; redemptions: number }>;
  /** The room's chat messages and reactions this stream (stored per minute: up to room.countsFlushMs behind). */
  room: { messages: number; reactions: number };
  /** Whether shoppers see "N sold" on the carousel (null until read). */
  showSoldCounts: boolean | null;
  /** Reads answered so far. */
  reads: number;
  error: string | null;
}

export interface LiveCountsOptions {
  /** The carousel's products in order (the carousel editor's list): one row each, zeros included. */
  products: () => ReadonlyArray<{ id: string; title: string }>;
}

const revenueText = (r: Record<string, string>): string => Object.entries(r).map(([cur, amount]) => `${amount} ${cur}`).join(' + ');

/** Builds the counts panel for `streamId` into `host` and keeps `state` current (one read at a time) until a 401/403/404. */
export function mountLiveCounts(host: HTMLElement, token: string, streamId: string, state: LiveCountsState, o: LiveCountsOptions): { refresh(): void } {
  const path = `/v1/streams/${encodeURIComponent(streamId)}/analytics`;
  const summary = el('p', { className: 'counts-summary', id: 'counts-summary', textContent: 'Reading the counts…' });
  const table = el('table', { className: 'counts-table', id: 'counts-table' });
  const promoLine = el('p', { className: 'counts-promos', id: 'counts-promos' });
  const roomLine = el('p', { className: 'counts-room', id: 'counts-room' });
  const message = el('p', { className: 'console-message', role: 'status' } as Partial<HTMLParagraphElement>);
  const soldSwitch = el('input', { type: 'checkbox', id: 'show-sold-counts', name: 'show-sold-counts', disabled: true });
  const soldLabel = el('label', { htmlFor: 'show-sold-counts', className: 'show-sold', textContent: ' Shoppers see how many sold' });
  soldLabel.prepend(soldSwitch);
  host.append(el('h2', { textContent: 'Live counts' }), summary, table, promoLine, roomLine, soldLabel, message);
  const settingsPath = `/v1/streams/${encodeURIComponent(streamId)}/commerce`;
  const showSold = (on: boolean): void => {
    state.showSoldCounts = on;
    soldSwitch.checked = on;
    soldSwitch.disabled = false;
  };
  soldSwitch.addEventListener('change', () => {
    const want = soldSwitch.checked;
    soldSwitch.disabled = true;
    api<{ showSoldCounts: boolean }>(token, 'PATCH', settingsPath, { showSoldCounts: want }).then((r) => showSold(r.showSoldCounts), (err: unknown) => {
      showSold(!want);
      state.error = explainApiError(err);
      message.textContent = state.error;
    });
  });
  api<{ showSoldCounts: boolean }>(token, 'GET', settingsPath).then((r) => showSold(r.showSoldCounts), (err: unknown) => {
    state.error = explainApiError(err);
    message.textContent = state.error;
  });

  function render(a: Analytics): void {
    const c = a.commerce ?? { clicks: 0, purchases: 0, revenue: {}, byProduct: [] };
    state.state = a.state;
    state.clicks = c.clicks;
    state.purchases = c.purchases;
    state.byProduct = Object.fromEntries(c.byProduct.map((p) => [p.productId, { clicks: p.clicks, purchases: p.purchases }]));
    const codes = [...new Set([...Object.keys(c.promoReveals ?? {}), ...Object.keys(c.promoRedemptions ?? {})])].sort();
    state.promos = Object.fromEntries(codes.map((code) => [code, { reveals: c.promoReveals?.[code] ?? 0, redemptions: c.promoRedemptions?.[code] ?? 0 }]));
    promoLine.textContent = codes.map((code) => `${code}: ${state.promos[code]!.reveals} copied · ${state.promos[code]!.redemptions} redeemed`).join('  ·  ');
    const revenue = revenueText(c.revenue);
    state.room = { messages: a.room?.messages ?? 0, reactions: a.room?.reactions ?? 0 };
    summary.textContent = `${a.state === 'live' ? `Live · ${a.currentViewers} viewer${a.currentViewers === 1 ? '' : 's'}` : a.state} · ${c.clicks} click${c.clicks === 1 ? '' : 's'} · ${c.purchases} sold${revenue ? ` · ${revenue}` : ''}`;
    roomLine.textContent = `This stream: ${state.room.messages} chat message${state.room.messages === 1 ? '' : 's'} · ${state.room.reactions} reaction${state.room.reactions === 1 ? '' : 's'}`;
    const head = el('tr');
    head.append(el('th', { textContent: 'Product' }), el('th', { textContent: 'Clicks' }), el('th', { textContent: 'Sold' }));
    // The carousel's products first, in its order; then any counted product since deleted.
    const rows = o.products().map((p) => ({ id: p.id, title: p.title }));
    for (const p of c.byProduct) if (!rows.some((r) => r.id === p.productId)) rows.push({ id: p.productId, title: `${p.productId} (deleted)` });
    table.replaceChildren(head, ...rows.map((r) => {
      const n = state.byProduct[r.id] ?? { clicks: 0, purchases: 0 };
      const tr = el('tr');
      tr.dataset.productId = r.id;
      tr.append(el('td', { textContent: r.title }), el('td', { className: 'clicks', textContent: String(n.clicks) }), el('td', { className: 'purchases', textContent: String(n.purchases) }));
      return tr;
    }));
  }

  const poller = startPoller(async () => {
    const a = await api<Analytics>(token, 'GET', path);
    state.reads++;
    state.error = null;
    message.textContent = '';
    render(a);
  }, ANALYTICS_POLL_MS, (err) => {
    state.error = explainApiError(err);
    message.textContent = state.error;
  });
  return {
    /** Reads now (a sale came in, the state changed), besides the timer's reads. */
    refresh(): void {
      poller.now();
    },
  };
}
