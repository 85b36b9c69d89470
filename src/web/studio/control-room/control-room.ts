/// <reference lib="dom" />
/**
 * The control room for one stream (/studio?stream=<id>, signed in with the creator token; no
 * camera needed, so it works the same while OBS is the camera): the carousel editor with its
 * one-tap highlight, the promo codes, the live counts of clicks and purchases, and the room's chat
 * with moderation, the reaction tally and the blocked words. Each panel is its own section, one column on a phone.
 * The stream's public events feed (GET /v1/streams/:id/events, the watch page's StateFeed) keeps
 * them current when another device or the API changes something: the state (live, ended), the
 * products, the highlight, the promo on screen, and a sale (the counts are read at once).
 */
import { StateFeed } from '../../watch/state-feed.js';
import { mountBlockedWords, type BlockedWordsState } from './blocked-words.js';
import { mountCarouselEditor, type ControlRoomState, type Highlight } from './carousel-editor.js';
import { el } from './dom.js';
import { mountLiveCounts, type LiveCountsState } from './live-counts.js';
import { mountPromoControls, type PromoState } from './promo-controls.js';
import { mountRoomPanel, type StudioRoomState } from './room-panel.js';

/** What the test hook (window.__studio.controlRoom) reports: the carousel's state and each panel's. */
export interface ControlRoomHook extends ControlRoomState {
  counts: LiveCountsState;
  promos: PromoState;
  room: StudioRoomState;
  blockedWords: BlockedWordsState;
}

/** A new hook for the stream's control room, nothing read yet. */
export function newControlRoomHook(streamId: string): ControlRoomHook {
  return {
    streamId, productIds: [], highlight: null, error: null,
    counts: { state: null, clicks: 0, purchases: 0, byProduct: {}, promos: {}, showSoldCounts: null, reads: 0, error: null },
    promos: { codes: [], onScreen: null, error: null },
    room: { authed: false, shown: [], settings: null, reactions: {}, viewers: null, timedOut: [], errors: [], error: null },
    blockedWords: { words: [], error: null },
  };
}

/** Builds the control room's panels into `host` and keeps `hook` current. */
export function mountControlRoom(host: HTMLElement, token: string, hook: ControlRoomHook): void {
  const panel = (id: string, label: string): HTMLElement => {
    const s = el('section', { className: 'panel', id });
    s.setAttribute('aria-label', label);
    host.append(s);
    return s;
  };
  const carousel = mountCarouselEditor(panel('panel-products', 'Products and highlight'), token, hook);
  const promos = mountPromoControls(panel('panel-promos', 'Promo codes'), token, hook.streamId, hook.promos);
  const counts = mountLiveCounts(panel('panel-counts', 'Live counts'), token, hook.streamId, hook.counts, { products: () => carousel.products() });
  const id = encodeURIComponent(hook.streamId);
  let lastState: string | undefined;
  new StateFeed({
    eventsUrl: `/v1/streams/${id}/events`,
    apiUrl: `/v1/streams/${id}`,
    // Going live or ending changes what is valid (live-only promos, the current highlight).
    onState: ({ state }) => {
      if (lastState !== undefined) {
        promos.reload();
        carousel.reload();
        counts.refresh();
      }
      lastState = state;
    },
    named: {
      products: () => carousel.reload(),
      highlight: (d) => carousel.applyHighlight((d as { highlight: Highlight }).highlight),
      promo: (d) => promos.applyOnScreen(((d as { promo: { code: string } | null }).promo)?.code ?? null),
      sold: () => counts.refresh(),
    },
  }).start();
  const roomPanel = panel('panel-room', 'Chat');
  mountRoomPanel(roomPanel, token, hook.streamId, hook.room);
  mountBlockedWords(roomPanel, token, hook.streamId, hook.blockedWords);
}
