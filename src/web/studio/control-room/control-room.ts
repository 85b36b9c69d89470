/// <reference lib="dom" />
/**
 * The control room for one stream (/studio?stream=<id>, signed in with the creator token; no
 * camera needed, so it works the same while OBS is the camera): the carousel editor with its
 * one-tap highlight, the promo codes, the live counts of clicks and purchases, the OBS details
 * (server, key, what the server receives), and the room's chat with moderation, the reaction tally
 * and the blocked words. Each panel is its own section, one column on a phone.
 * The stream's public events feed (GET /v1/streams/:id/events, the watch page's StateFeed) keeps
 * them current when another device or the API changes something: the state (live, ended), the
 * products, the highlight, the promo on screen, and a sale (the counts are read at once).
 */
import { StateFeed } from '../../watch/state-feed.js';
import { ApiError, api, explainApiError } from '../creator-api.js';
import { mountBlockedWords, type BlockedWordsState } from './blocked-words.js';
import { mountCarouselEditor, type ControlRoomState, type Highlight } from './carousel-editor.js';
import { el } from './dom.js';
import { mountLiveCounts, type LiveCountsState } from './live-counts.js';
import { mountObsPanel, type ObsState } from './obs-panel.js';
import { mountPromoControls, type PromoState } from './promo-controls.js';
import { mountRoomPanel, type StudioRoomState } from './room-panel.js';

/** What the test hook (window.__studio.controlRoom) reports: the carousel's state and each panel's. */
export interface ControlRoomHook extends ControlRoomState {
  counts: LiveCountsState;
  promos: PromoState;
  room: StudioRoomState;
  blockedWords: BlockedWordsState;
  obs: ObsState;
  /** The stream's title and state (its state followed live), null until read. */
  stream: { title: string | null; state: string } | null;
}

/** A new hook for the stream's control room, nothing read yet. */
export function newControlRoomHook(streamId: string): ControlRoomHook {
  return {
    streamId, productIds: [], highlight: null, error: null,
    counts: { state: null, clicks: 0, purchases: 0, byProduct: {}, promos: {}, room: { messages: 0, reactions: 0 }, showSoldCounts: null, reads: 0, error: null },
    promos: { codes: [], onScreen: null, error: null },
    room: { authed: false, shown: [], settings: null, reactions: {}, viewers: null, timedOut: [], errors: [], error: null },
    blockedWords: { words: [], error: null },
    obs: { rtmpUrl: null, keyPrefix: null, newKey: null, receiving: null, error: null },
    stream: null,
  };
}

/** The owner's view of the stream (GET /v1/streams/:id): `ingest` is there only for its owner or the operator. */
interface OwnStream { title: string | null; state: string; creatorId: string | null; ingest?: unknown }

/**
 * Builds the control room into `host` and keeps `hook` current: a header with the stream's title,
 * state and watch link, then the panels, once the stream is known to be the creator's own (anyone
 * may read a public stream's view; only its owner's has `ingest`).
 */
export function mountControlRoom(host: HTMLElement, token: string, hook: ControlRoomHook): void {
  const id = encodeURIComponent(hook.streamId);
  const head = el('header', { className: 'control-room-head', id: 'control-room-head' });
  const title = el('h1', { className: 'control-room-title', textContent: 'Control room' });
  const badge = el('span', { className: 'stream-state', id: 'stream-state' });
  const watch = el('a', { id: 'watch-link', href: `/watch/${id}`, target: '_blank', rel: 'noopener', textContent: 'Watch page' });
  const message = el('p', { className: 'console-message', role: 'status' } as Partial<HTMLParagraphElement>);
  head.append(title, badge, watch, message);
  host.append(head);
  const showState = (state: string): void => {
    hook.stream = { title: hook.stream?.title ?? null, state };
    badge.textContent = state;
    badge.dataset.state = state;
  };
  api<OwnStream>(token, 'GET', `/v1/streams/${id}`).then((s) => {
    if (s.ingest === undefined) throw new ApiError(404, 'SHOWCASE_ERR_NOT_FOUND', 'not yours');
    hook.stream = { title: s.title, state: s.state };
    title.textContent = s.title || hook.streamId;
    showState(s.state);
    mountPanels(host, token, hook, s.creatorId, showState);
  }).catch((err: unknown) => {
    hook.error = err instanceof ApiError && err.status === 404 ? 'This stream is not one of yours (or it was deleted).' : explainApiError(err);
    message.textContent = hook.error;
  });
}

/** The panels, once the stream is the creator's own. */
function mountPanels(host: HTMLElement, token: string, hook: ControlRoomHook, creatorId: string | null, showState: (state: string) => void): void {
  const panel = (id: string, label: string): HTMLElement => {
    const s = el('section', { className: 'panel', id });
    s.setAttribute('aria-label', label);
    host.append(s);
    return s;
  };
  const carousel = mountCarouselEditor(panel('panel-products', 'Products and highlight'), token, hook);
  const promos = mountPromoControls(panel('panel-promos', 'Promo codes'), token, hook.streamId, hook.promos);
  const counts = mountLiveCounts(panel('panel-counts', 'Live counts'), token, hook.streamId, hook.counts, { products: () => carousel.products() });
  const obs = mountObsPanel(panel('panel-obs', 'Camera (OBS)'), token, hook.streamId, hook.obs);
  const roomPanel = panel('panel-room', 'Chat');
  mountRoomPanel(roomPanel, token, hook.streamId, hook.room);
  if (creatorId) mountBlockedWords(roomPanel, token, creatorId, hook.blockedWords);
  const id = encodeURIComponent(hook.streamId);
  let lastState: string | undefined;
  new StateFeed({
    eventsUrl: `/v1/streams/${id}/events`,
    apiUrl: `/v1/streams/${id}`,
    // Going live or ending changes what is valid (live-only promos, the current highlight).
    onState: ({ state }) => {
      showState(state);
      if (lastState !== undefined) {
        promos.reload();
        carousel.reload();
        counts.refresh();
        obs.refresh();
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
}
