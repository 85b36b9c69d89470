/// <reference lib="dom" />
/**
 * The shopper's watch page: follows the stream's state over server-sent events, plays the LL-HLS
 * ladder with hls.js (Safari/iOS: its own player), muted autoplay with a tap to unmute, a quality
 * menu, bounded error recovery, ?debug=1 figures, and a window.__showcase hook for tests.
 * Bundled by scripts/build-web.mjs; the server fills in watch.html.
 */
import { WatchPlayer, playbackMode, type Rendition } from './player.js';
import { StateFeed, pageState, type StateUpdate, type StreamState } from './state-feed.js';
import { QualityMenu } from './quality-menu.js';
import { renderDebug } from './debug-panel.js';
import { ViewerHeartbeat } from './heartbeat.js';
import { HIGHLIGHT_CLASS, HighlightPopup, ShopCarousel, activeHighlight, type HighlightRange, type ShopProduct } from './shop.js';
import { PromoBanner, PromoList, type ShopPromo } from './promo-banner.js';
import { cueHighlights, metadataCues } from './highlight-cues.js';
import { startChatPanel, type ChatHook } from './chat-panel.js';
import { countdownText } from './countdown.js';
import { mountFollowButton, type FollowState } from './follow-button.js';

/** What the server embeds in the page (src/http/watch-routes.ts). */
interface PageConfig {
  id: string;
  title: string;
  creator: { id: string; displayName: string; handle: string } | null;
  state: StreamState;
  /** When the stream is announced to start (ISO), null when unscheduled. */
  scheduledAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  hls: string;
  events: string;
  api: string;
}

type View = 'waiting' | 'connecting' | 'playing' | 'blocked' | 'ended' | 'replay' | 'error';

/** The test hook (window.__showcase): read-only figures, refreshed four times a second. */
interface ShowcaseHook {
  state: StreamState;
  view: View;
  mode: string;
  latency: number | null;
  wallLatency: number | null;
  targetLatency: number | null;
  buffer: number;
  /** How far the live start jumped to reach the target latency, seconds (player.ts #joinLive). */
  joinedS: number;
  stalls: number;
  level: number;
  autoLevel: boolean;
  levels: Rendition[];
  errors: string[];
  fatal: string | null;
  playing: boolean;
  muted: boolean;
  currentTime: number;
  firstFrameMs: number | null;
  replayAvailable: boolean;
  /** Carousel product ids, in order. */
  products: string[];
  /**
   * The highlight on screen: its range (startMs on its source's clock: program date for hls.js's
   * date ranges, media time for metadata cues), and the playhead's program date when it appeared.
   */
  highlight: { id: string; productId: string; startMs: number; shownAtProgramMs: number | null; source: HighlightSource } | null;
  /** Where the pop-up's ranges come from: hls.js's LevelDetails.dateRanges, or the video's metadata cues (native players). */
  highlightSource: HighlightSource;
  /** Units sold per product during this stream, as the products API or the last 'sold' event said. */
  sold: Record<string, number>;
  /** Promo codes listed on the page, in order. */
  promos: string[];
  /** The promo code on screen (the banner), or null. */
  promoOnScreen: string | null;
  /** Reveal beacons sent (a code copied), with the status the server answered (0: no answer). */
  reveals: Array<{ code: string; status: number }>;
  /** The countdown on the waiting card ("Starts in 04:59"), null when not scheduled or not waiting. */
  countdown: string | null;
}

type HighlightSource = 'dateranges' | 'cues';

declare global {
  interface Window {
    __showcase: ShowcaseHook;
    __showcaseChat: ChatHook;
    __showcaseFollow: FollowState | null;
  }
}

const MAX_ERRORS = 50;

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`watch page: #${id} missing from the template`);
  return el as T;
}

const config = JSON.parse(byId('showcase-config').textContent || '{}') as PageConfig;
// The server may say 'interrupted' (a restart in progress): the page plays that as live.
config.state = pageState(config.state) ?? 'ended';
const video = byId<HTMLVideoElement>('video');
const stage = byId('stage');
const badge = byId('badge');
const card = byId('card');
const cardTitle = byId('card-title');
const cardText = byId('card-text');
const cardAction = byId<HTMLButtonElement>('card-action');
const unmute = byId<HTMLButtonElement>('unmute');
const debugEl = byId('debug');
const query = new URLSearchParams(location.search);
const debug = query.get('debug') === '1';
debugEl.hidden = !debug;

const hook: ShowcaseHook = {
  state: config.state,
  view: 'waiting',
  mode: playbackMode(video),
  latency: null,
  wallLatency: null,
  targetLatency: null,
  buffer: 0,
  joinedS: 0,
  stalls: 0,
  level: -1,
  autoLevel: true,
  levels: [],
  errors: [],
  fatal: null,
  playing: false,
  muted: true,
  currentTime: 0,
  firstFrameMs: null,
  replayAvailable: false,
  products: [],
  highlight: null,
  highlightSource: 'dateranges',
  sold: {},
  promos: [],
  promoOnScreen: null,
  reveals: [],
  countdown: null,
};
window.__showcase = hook;

let player: WatchPlayer | undefined;
let playerKind: 'live' | 'replay' | undefined;
let cardActionHandler: (() => void) | undefined;
let replayCheck = 0;

// Every 2 s while playing: well inside the server's session timeout (a few target durations).
const heartbeat = new ViewerHeartbeat(`${config.api}/heartbeat`, () => player?.sessionId(), () => hook.playing);

const quality = new QualityMenu(byId<HTMLButtonElement>('quality-button'), byId('quality-menu'), (i) => player?.setLevel(i));

video.muted = true;
video.playsInline = true;

function showCard(title: string, text: string, action?: { label: string; run: () => void }, busy = false): void {
  card.hidden = false;
  card.classList.toggle('busy', busy);
  cardTitle.textContent = title;
  cardText.textContent = text;
  cardActionHandler = action?.run;
  cardAction.hidden = !action;
  if (action) cardAction.textContent = action.label;
}

cardAction.addEventListener('click', () => cardActionHandler?.());

function setView(view: View): void {
  hook.view = view;
  stage.dataset.view = view;
  const badges: Record<View, [string, string]> = {
    waiting: ['Upcoming', 'upcoming'],
    connecting: ['Live', 'live'],
    playing: ['Live', 'live'],
    blocked: ['Live', 'live'],
    ended: ['Ended', 'ended'],
    replay: ['Replay', 'replay'],
    error: [hook.state === 'live' ? 'Live' : 'Ended', hook.state === 'live' ? 'live' : 'ended'],
  };
  const [label, cls] = badges[view];
  badge.textContent = label;
  badge.className = `badge badge-${cls}`;
  switch (view) {
    case 'waiting':
      showCard('Starting soon', waitingText());
      break;
    case 'connecting':
      showCard('Connecting…', 'The live is starting.', undefined, true);
      break;
    case 'blocked':
      showCard('Tap to play', 'Your browser is waiting for a tap before it plays video.', { label: 'Play', run: () => void video.play().then(() => setView(playerKind === 'replay' ? 'replay' : 'playing')).catch(() => {}) });
      break;
    case 'ended':
      showCard('This live has ended', 'Thanks for watching!', hook.replayAvailable ? { label: 'Watch the replay', run: startReplay } : undefined);
      break;
    case 'error':
      showCard("Can't play right now", hook.fatal ?? 'Something went wrong.', { label: 'Try again', run: retry });
      break;
    default:
      card.hidden = true;
  }
  updateUnmute();
}

/** The waiting card's text: the countdown to a scheduled start, and that the page starts by itself. */
function waitingText(): string {
  const at = config.scheduledAt ? Date.parse(config.scheduledAt) : NaN;
  hook.countdown = Number.isFinite(at) ? countdownText(at, Date.now()) : null;
  const lead = hook.countdown ? `${hook.countdown}. ` : "This live hasn't started yet. ";
  return `${lead}Stay on this page: it will start playing by itself.`;
}

// The countdown ticks while the page waits; the 'state' event at go-live starts the player.
setInterval(() => {
  if (hook.view === 'waiting') cardText.textContent = waitingText();
  else hook.countdown = null;
}, 1000);

function updateUnmute(): void {
  hook.muted = video.muted;
  unmute.hidden = !video.muted || !(hook.view === 'playing' || hook.view === 'replay');
}

unmute.addEventListener('click', (e) => {
  e.stopPropagation();
  video.muted = false;
  if (video.paused) void video.play().catch(() => {});
  updateUnmute();
});
video.addEventListener('volumechange', updateUnmute);
// A tap on the picture while muted is the most natural "turn the sound on".
video.addEventListener('click', () => {
  if (video.muted && (hook.view === 'playing' || hook.view === 'replay')) unmute.click();
});

function recordError(summary: string): void {
  hook.errors.push(summary);
  if (hook.errors.length > MAX_ERRORS) hook.errors.splice(0, hook.errors.length - MAX_ERRORS);
}

function stopPlayer(): void {
  heartbeat.stop();
  player?.destroy();
  player = undefined;
  playerKind = undefined;
  quality.reset();
  hook.levels = [];
  hook.level = -1;
  hook.latency = null;
}

function startPlayer(kind: 'live' | 'replay'): void {
  stopPlayer();
  hook.fatal = null;
  playerKind = kind;
  const p = new WatchPlayer(video, {
    src: config.hls,
    live: kind === 'live',
    debug,
    // Keep asking for the playlist while the server still says the stream is live.
    shouldRetryManifest: () => kind === 'replay' || hook.state === 'live',
    callbacks: {
      onLevels: (levels) => {
        hook.levels = levels;
        quality.setLevels(levels);
      },
      onLevelSwitched: (level) => {
        hook.level = level;
        quality.setPlaying(level);
      },
      onError: recordError,
      onFatal: (message) => {
        if (player !== p) return;
        hook.fatal = message;
        // A live that ends while we were failing is an end, not an error.
        if (hook.state === 'ended' && kind === 'live') return endLive();
        setView('error');
      },
      onEnded: () => {
        if (player !== p) return;
        if (kind === 'live') {
          hook.state = 'ended';
          endLive();
        } else {
          stopPlayer();
          setView('ended');
        }
      },
      onAutoplayBlocked: () => {
        if (player === p) setView('blocked');
      },
    },
  });
  player = p;
  setView(kind === 'live' ? 'connecting' : 'replay');
  watchFirstFrame();
  p.start();
  heartbeat.start(2000);
}

function retry(): void {
  if (hook.state === 'live') startPlayer('live');
  else if (playerKind === 'replay' || hook.replayAvailable) startReplay();
  else setView(hook.state === 'idle' ? 'waiting' : 'ended');
}

function watchFirstFrame(): void {
  if (hook.firstFrameMs !== null) return;
  const v = video as HTMLVideoElement & { requestVideoFrameCallback?: (cb: (now: number) => void) => number };
  // performance.now() counts from navigation start: this is "time to first frame from page open".
  if (typeof v.requestVideoFrameCallback === 'function') v.requestVideoFrameCallback((now) => { hook.firstFrameMs ??= now; });
  else video.addEventListener('playing', () => { hook.firstFrameMs ??= performance.now(); }, { once: true });
}

// A stall: playback was running and now waits for data.
video.addEventListener('waiting', () => {
  if (hook.view === 'playing' || hook.view === 'replay') hook.stalls++;
});

video.addEventListener('playing', () => {
  if (hook.view === 'connecting' || hook.view === 'blocked') setView(playerKind === 'replay' ? 'replay' : 'playing');
});

function endLive(): void {
  stopPlayer();
  setView('ended');
  void checkReplay();
}

function startReplay(): void {
  startPlayer('replay');
}

/** A replay exists when the server still (or now) answers the playlist and it ends (ENDLIST). */
async function checkReplay(): Promise<void> {
  const run = ++replayCheck;
  // The ladder's final parts and ENDLIST land a moment after the 'ended' event: look a few times.
  for (let attempt = 0; attempt < 4 && run === replayCheck; attempt++) {
    if (attempt) await new Promise((r) => setTimeout(r, 1500));
    try {
      const master = await fetch(config.hls, { cache: 'no-store' });
      if (!master.ok) return;
      const text = await master.text();
      const uri = text.split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('#'));
      const media = uri ? await fetch(new URL(uri, new URL(config.hls, location.href)).href, { cache: 'no-store' }) : master;
      const body = uri ? await media.text() : text;
      if (media.ok && body.includes('#EXT-X-ENDLIST')) {
        if (run !== replayCheck) return;
        hook.replayAvailable = true;
        if (hook.view === 'ended') setView('ended');
        return;
      }
    } catch {
      /* the network is down: no replay offer this time */
    }
  }
}

function onState(u: StateUpdate): void {
  const previous = hook.state;
  hook.state = u.state;
  // A liveOnly code goes with the live (the server's 'promos' event says so too; this needs no network).
  refreshPromos();
  if (u.state === 'idle') {
    if (!player) setView('waiting');
  } else if (u.state === 'live') {
    if (playerKind !== 'live') startPlayer('live');
  } else if (playerKind !== 'replay' && !(previous === 'ended' && hook.view === 'ended' && !player)) {
    // Ended (from live, or before it ever started); a replay the shopper chose keeps playing.
    endLive();
  }
}

// Back from a background tab far behind the live edge: jump to it rather than play old minutes.
document.addEventListener('visibilitychange', () => {
  const h = player?.hls;
  if (document.visibilityState !== 'visible' || playerKind !== 'live' || !h) return;
  const target = h.targetLatency;
  if (target !== null && h.latency > target + 3 && h.liveSyncPosition !== null) video.currentTime = h.liveSyncPosition;
});

let tick = 0;
let lastTime = -1;
let lastAdvanceAt = 0;
setInterval(() => {
  const now = performance.now();
  if (video.currentTime !== lastTime) {
    lastTime = video.currentTime;
    lastAdvanceAt = now;
  }
  const s = player?.stats();
  hook.latency = s?.latency ?? null;
  hook.wallLatency = s?.wallLatency ?? null;
  hook.targetLatency = s?.targetLatency ?? null;
  hook.buffer = s?.buffer ?? 0;
  hook.joinedS = s?.joinedS ?? 0;
  hook.autoLevel = s?.autoLevel ?? true;
  if (s && s.level >= 0) hook.level = s.level;
  hook.currentTime = video.currentTime;
  // Playing means the picture moves: not paused, enough data, and currentTime advanced just now.
  hook.playing = !!player && !video.paused && !video.ended && video.readyState >= 3 && now - lastAdvanceAt < 600;
  hook.muted = video.muted;
  if (debug && tick++ % 2 === 0) renderDebug(debugEl, s, { mode: hook.mode, state: hook.state, errors: hook.errors.length, firstFrameMs: hook.firstFrameMs });
}, 250);

// The shop: the carousel (loaded once, then kept by 'products' events) and the highlight pop-up.
const carousel = new ShopCarousel(byId('shop'), byId('carousel'), () => {
  const q = new URLSearchParams();
  const sid = player?.sessionId();
  if (sid) q.set('sid', sid);
  q.set('t', video.currentTime.toFixed(3));
  return `?${q.toString()}`;
});
const popup = new HighlightPopup(byId('popup'), carousel);
const setProducts = (items: Array<ShopProduct & { sold?: number }>): void => {
  carousel.set(items);
  hook.products = carousel.items.map((p) => p.id);
};
const setSold = (counts: Record<string, number>): void => {
  hook.sold = counts;
  carousel.setSold(counts);
};
void fetch(`${config.api}/products`, { cache: 'no-store' }).then(async (r) => {
  if (!r.ok) return;
  const items = ((await r.json()) as { items: Array<ShopProduct & { sold?: number }> }).items;
  setProducts(items);
  // The counts so far come with the list, unless the creator turned them off (then no item has one).
  const sold: Record<string, number> = {};
  for (const p of items) if (p.sold) sold[p.id] = p.sold;
  setSold(sold);
}).catch(() => { /* no carousel this time; a 'products' event brings it */ });

/** Counts a copied code (a reveal): a keepalive POST, so it survives the shopper leaving for the shop. */
function reveal(code: string): void {
  const q = new URLSearchParams();
  const sid = player?.sessionId();
  if (sid) q.set('sid', sid);
  const entry = { code, status: 0 };
  hook.reveals.push(entry);
  if (hook.reveals.length > MAX_ERRORS) hook.reveals.shift();
  void fetch(`${config.api}/promos/${encodeURIComponent(code)}/reveals${sid ? `?${q.toString()}` : ''}`, { method: 'POST', keepalive: true, cache: 'no-store' })
    .then((r) => { entry.status = r.status; })
    .catch(() => { /* a lost beacon loses one count, never the page */ });
}

// The promo on screen: what GET .../promos says now, then 'promo' events; the codes valid now listed
// under the carousel, then 'promos' events. Copying either counts a reveal.
const promoBanner = new PromoBanner(byId('promo'), reveal);
const promoList = new PromoList(byId('promos'), byId('promo-list'), () => hook.state === 'live', reveal);
const showOnScreen = (p: ShopPromo | null): void => {
  promoBanner.show(p);
  hook.promoOnScreen = promoBanner.code;
};
const setPromos = (items: ShopPromo[]): void => {
  promoList.set(items);
  hook.promos = [...promoList.codes];
};
function refreshPromos(): void {
  promoList.refresh();
  hook.promos = [...promoList.codes];
}
void fetch(`${config.api}/promos`, { cache: 'no-store' }).then(async (r) => {
  if (!r.ok) return;
  const d = (await r.json()) as { items: ShopPromo[]; onScreen?: string | null };
  setPromos(d.items);
  showOnScreen(d.items.find((p) => p.code === d.onScreen) ?? null);
}).catch(() => { /* no codes this time; 'promo' and 'promos' events bring them */ });
// Dated codes start and end on the shopper's clock too.
setInterval(refreshPromos, 1000);

/** The highlight ranges of the playing rendition's playlist (the same in every rendition). */
function highlightRanges(): HighlightRange[] {
  const h = player?.hls;
  const details = h?.levels[Math.max(0, h.currentLevel)]?.details ?? h?.levels[0]?.details;
  const out: HighlightRange[] = [];
  for (const d of Object.values(details?.dateRanges ?? {})) {
    if (!d || d.class !== HIGHLIGHT_CLASS) continue;
    const productId = d.attr['X-PRODUCT-ID'];
    if (typeof productId === 'string') out.push({ id: d.id, productId, startMs: d.startDate.getTime(), endMs: d.endDate ? d.endDate.getTime() : null });
  }
  return out;
}

// The pop-up follows the playhead, checked every 40 ms: well inside the 250 ms the issue allows.
// With hls.js (wherever MSE exists): the playing fragment's program date (plus the time into it)
// against the playlist's date ranges. With the browser's own HLS player (Safari without MSE):
// the video's metadata cues, which carry the same ranges on the media timeline, against
// currentTime. ?highlights=cues takes the cue path under hls.js too (its cues have Safari's shape).
setInterval(() => {
  const source: HighlightSource = player && (player.mode === 'native' || query.get('highlights') === 'cues') ? 'cues' : 'dateranges';
  hook.highlightSource = source;
  let range: HighlightRange | undefined;
  let programMs: number | null;
  if (source === 'cues') {
    range = activeHighlight(cueHighlights(metadataCues(video)), video.currentTime * 1000);
    programMs = player?.playingDateMs() ?? null;
  } else {
    programMs = player?.hls?.playingDate?.getTime() ?? null;
    range = programMs === null ? undefined : activeHighlight(highlightRanges(), programMs);
  }
  if (!popup.show(range)) return;
  hook.highlight = range && popup.shown ? { id: range.id, productId: range.productId, startMs: range.startMs, shownAtProgramMs: programMs, source } : null;
}, 40);

// The state the server rendered the page with, then the live feed (its first event repeats it).
onState({ state: config.state, startedAt: config.startedAt, endedAt: config.endedAt });
new StateFeed({
  eventsUrl: config.events,
  apiUrl: config.api,
  onState,
  named: {
    products: (d) => setProducts((d as { items: ShopProduct[] }).items),
    promo: (d) => showOnScreen((d as { promo: ShopPromo | null }).promo),
    promos: (d) => setPromos((d as { items: ShopPromo[] }).items),
    // Empty counts when the creator turned them off: every "N sold" goes.
    sold: (d) => setSold((d as { counts: Record<string, number> }).counts),
  },
}).start();

// The room's chat (issue 14): live over the room socket, in a replay following the playhead.
window.__showcaseChat = startChatPanel(byId('chat'), { streamId: config.id, mode: () => (playerKind === 'replay' ? 'replay' : 'live'), playheadMs: () => player?.playingDateMs() ?? null });

// Follow the creator (issue 15): the same shopper on this device as the chat's.
window.__showcaseFollow = config.creator ? mountFollowButton(byId('follow'), config.creator.id) : null;
