/// <reference lib="dom" />
/**
 * The control room's camera panel for OBS (or any RTMP encoder): the server URL to paste
 * (GET /v1/streams/:id/ingest), the stream key's prefix (the key is stored as a hash and shown only
 * once) with "New stream key" (POST .../key, two taps: OBS must then be given the new one), and,
 * while the stream is in memory, what the server receives: protocol, bitrate, frame rate, keyframe
 * interval, transcoder state and why the source is not passed through (GET /v1/streams/:id's `live`,
 * read every few seconds).
 */
import { api, explainApiError } from '../creator-api.js';
import { button, el } from './dom.js';
import { startPoller } from './poller.js';

/** How often what the server receives is read (ms). */
const LIVE_POLL_MS = 3000;
/** How long the second tap on "New stream key" may wait. */
const CONFIRM_MS = 5000;

interface Ingest { rtmpUrl: string; whipUrl?: string; streamKeyPrefix: string }
interface LiveDetails {
  transcoder: string;
  passthroughRefusal: string | null;
  publisher: { protocol: string } | null;
  ingest: { bitsPerSecond: number; framesPerSecond: number; keyframeIntervalSeconds: number } | null;
}

/** What the test hook reports about the camera panel. */
export interface ObsState {
  rtmpUrl: string | null;
  keyPrefix: string | null;
  /** The key made by "New stream key" on this page (shown once), or null. */
  newKey: string | null;
  /** What the server receives now, or null when nothing is publishing. */
  receiving: { protocol: string; bitsPerSecond: number; framesPerSecond: number; keyframeIntervalSeconds: number; transcoder: string } | null;
  error: string | null;
}

const mbit = (bps: number): string => `${(bps / 1e6).toFixed(1)} Mbit/s`;

/** Builds the camera panel for `streamId` into `host`. */
export function mountObsPanel(host: HTMLElement, token: string, streamId: string, state: ObsState): { refresh(): void } {
  const id = encodeURIComponent(streamId);
  const message = el('p', { className: 'console-message', role: 'status' } as Partial<HTMLParagraphElement>);
  const server = el('code', { className: 'obs-server', id: 'obs-server' });
  const key = el('code', { className: 'obs-key', id: 'obs-key' });
  const receiving = el('p', { className: 'obs-receiving', id: 'obs-receiving', textContent: 'Nothing is being received.' });
  const hint = el('p', { className: 'obs-hint', id: 'obs-hint' });
  const copy = (text: () => string | null): HTMLButtonElement => button('Copy', 'obs-copy', () => {
    const v = text();
    // The clipboard may be refused (no permission, no secure context): the text stays selectable.
    if (v) void navigator.clipboard?.writeText(v).catch(() => {});
  });
  let confirmUntil = 0;
  const rotate = button('New stream key', 'obs-rotate', () => {
    if (Date.now() > confirmUntil) {
      confirmUntil = Date.now() + CONFIRM_MS;
      rotate.textContent = 'Tap again: the old key stops working';
      window.setTimeout(() => { if (Date.now() >= confirmUntil) rotate.textContent = 'New stream key'; }, CONFIRM_MS);
      return;
    }
    confirmUntil = 0;
    rotate.textContent = 'New stream key';
    api<{ streamKey: string; ingest: { streamKeyPrefix: string } }>(token, 'POST', `/v1/streams/${id}/key`).then((r) => {
      state.newKey = r.streamKey;
      state.keyPrefix = r.ingest.streamKeyPrefix;
      key.textContent = r.streamKey;
      keyCopy.hidden = false;
      message.textContent = 'New key: paste it into OBS now, it is not shown again.';
    }, fail);
  });
  rotate.id = 'obs-rotate';
  const serverRow = el('p', { className: 'obs-row' });
  serverRow.append('Server ', server, ' ', copy(() => state.rtmpUrl));
  const keyRow = el('p', { className: 'obs-row' });
  const keyCopy = copy(() => state.newKey);
  keyCopy.hidden = true;
  keyRow.append('Stream key ', key, ' ', keyCopy);
  host.append(el('h2', { textContent: 'Camera (OBS)' }), serverRow, keyRow, rotate, receiving, hint, message);

  function fail(err: unknown): void {
    state.error = explainApiError(err);
    message.textContent = state.error;
  }

  void api<Ingest>(token, 'GET', `/v1/streams/${id}/ingest`).then((i) => {
    state.rtmpUrl = i.rtmpUrl;
    state.keyPrefix ??= i.streamKeyPrefix;
    server.textContent = i.rtmpUrl;
    if (!state.newKey) key.textContent = `${i.streamKeyPrefix}… (shown once, when made)`;
  }, fail);

  const poller = startPoller(async () => {
    const live = (await api<{ live?: LiveDetails }>(token, 'GET', `/v1/streams/${id}`)).live;
    const r = live?.publisher && live.ingest ? live.ingest : null;
    state.receiving = r && live ? { protocol: live.publisher!.protocol, ...r, transcoder: live.transcoder } : null;
    state.error = null;
    if (!state.receiving) {
      receiving.textContent = 'Nothing is being received: start streaming in OBS (or Go live above).';
      hint.textContent = 'OBS → Settings → Stream: Service Custom, the server and key above. Output: keyframe interval 2 s.';
      return;
    }
    const v = state.receiving;
    receiving.textContent = `Receiving ${v.protocol.toUpperCase()} · ${mbit(v.bitsPerSecond)} · ${Math.round(v.framesPerSecond)} fps · keyframe every ${v.keyframeIntervalSeconds} s · transcoder ${v.transcoder}`;
    // Keyframes far apart make the server encode every rung itself (README, Going live from OBS).
    hint.textContent = live?.passthroughRefusal ? `Not passed through: ${live.passthroughRefusal}. Set OBS's keyframe interval to 2 s.`
      : v.keyframeIntervalSeconds > 4 ? 'Keyframes are far apart: set OBS\'s keyframe interval to 2 s.' : '';
  }, LIVE_POLL_MS, fail);
  return { refresh: () => poller.now() };
}
