/// <reference lib="dom" />
/**
 * The creator's studio page (/studio): camera and microphone preview, the stream key, Go live /
 * Stop and a status line; publishes with mediasoup-client over the WebSocket signaling. With
 * ?view=<streamId> it is a sub-second monitor of a live stream instead. window.__studio is a
 * read-only test hook, refreshed twice a second. Bundled by scripts/build-web.mjs.
 */
import { SignalError } from './signal-client.js';
import { StudioMonitor } from './studio-monitor.js';
import { StudioPublisher } from './studio-publisher.js';

type State = 'idle' | 'preview' | 'connecting' | 'live' | 'stopping' | 'stopped' | 'error';

/** The test hook (window.__studio). */
interface StudioHook {
  mode: 'studio' | 'monitor';
  state: State;
  streamId: string | null;
  error: { code: string; message: string } | null;
  connection: string | null;
  codecs: string[];
  framesEncoded: number;
  bytesSent: number;
  /** Go live click to the server's "live" answer (ms). */
  goLiveMs: number | null;
  monitor: { state: 'idle' | 'connecting' | 'playing' | 'ended' | 'error'; framesDecoded: number; setupMs: number | null; firstFrameMs: number | null };
}

declare global {
  interface Window {
    __studio: StudioHook;
  }
}

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`studio page: #${id} missing from the template`);
  return el as T;
}

const root = byId('studio');
const video = byId<HTMLVideoElement>('preview');
const badge = byId('badge');
const note = byId('stage-note');
const form = byId<HTMLFormElement>('controls');
const keyInput = byId<HTMLInputElement>('key');
const goButton = byId<HTMLButtonElement>('go');
const stopButton = byId<HTMLButtonElement>('stop');
const statusEl = byId('status');
const share = byId('share');
const shareLink = byId<HTMLAnchorElement>('share-link');

const hook: StudioHook = {
  mode: 'studio', state: 'idle', streamId: null, error: null, connection: null, codecs: [], framesEncoded: 0, bytesSent: 0, goLiveMs: null,
  monitor: { state: 'idle', framesDecoded: 0, setupMs: null, firstFrameMs: null },
};
window.__studio = hook;

let media: MediaStream | undefined;
let publisher: StudioPublisher | undefined;

const BADGES: Record<State, string> = { idle: 'Offline', preview: 'Preview', connecting: 'Connecting', live: 'Live', stopping: 'Stopping', stopped: 'Offline', error: 'Offline' };

function setState(state: State, text: string): void {
  hook.state = state;
  root.dataset.state = state;
  badge.textContent = BADGES[state];
  statusEl.textContent = text;
  const busy = state === 'connecting' || state === 'stopping';
  goButton.disabled = busy || state === 'live';
  stopButton.disabled = state !== 'live' && state !== 'connecting';
  keyInput.disabled = busy || state === 'live';
}

/** Human words for the server's codes (the code itself stays in window.__studio.error). */
function explain(err: unknown): string {
  const code = err instanceof SignalError ? err.code : '';
  switch (code) {
    case 'SHOWCASE_ERR_RTMP_BAD_KEY': return 'That stream key is not valid (or its stream has ended). Check it and try again.';
    case 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING': return 'This stream is already live from another device.';
    case 'SHOWCASE_ERR_RATE_LIMITED': return 'Too many attempts. Wait a minute and try again.';
    case 'SHOWCASE_ERR_UNAVAILABLE': return 'The server is busy or stopping. Try again shortly.';
    case 'SHOWCASE_ERR_SIGNAL_LOST': return 'Lost the connection to the server.';
    default: return (err as Error)?.message || 'Something went wrong.';
  }
}

function fail(err: unknown): void {
  hook.error = { code: err instanceof SignalError ? err.code : (err as DOMException)?.name ?? 'Error', message: (err as Error)?.message ?? String(err) };
  setState('error', explain(err));
}

/** Camera and microphone for the preview (and what goes live); asked once, on load. */
async function startPreview(): Promise<void> {
  if (!navigator.mediaDevices?.getUserMedia) {
    note.textContent = 'This browser cannot use the camera here (the studio needs HTTPS).';
    return fail(new Error('getUserMedia is not available (open the studio over https)'));
  }
  try {
    media = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true },
      video: { facingMode: 'user', width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30, max: 30 } },
    });
  } catch (err) {
    note.textContent = 'Camera or microphone blocked';
    return fail(err);
  }
  root.dataset.facing = media.getVideoTracks()[0]?.getSettings().facingMode ?? 'user';
  video.srcObject = media;
  note.hidden = true;
  setState('preview', 'Enter your stream key, then Go live.');
}

async function goLive(): Promise<void> {
  if (publisher || hook.state === 'connecting') return;
  if (!media) await startPreview();
  if (!media) return;
  const key = keyInput.value.trim();
  if (!key) return setState('error', 'Enter your stream key first.');
  hook.error = null;
  setState('connecting', 'Connecting…');
  const t0 = performance.now();
  try {
    publisher = await StudioPublisher.start(key, media, {
      onConnectionState: (s) => { hook.connection = s; },
      onEnded: (reason, code) => {
        publisher = undefined;
        share.hidden = true;
        hook.error = { code, message: reason };
        setState('error', `The stream stopped: ${reason}`);
      },
    });
  } catch (err) {
    publisher = undefined;
    return fail(err);
  }
  hook.goLiveMs = Math.round(performance.now() - t0);
  hook.streamId = publisher.streamId;
  hook.codecs = publisher.codecs;
  shareLink.href = `/watch/${publisher.streamId}`;
  shareLink.textContent = new URL(shareLink.href, location.href).href;
  share.hidden = false;
  setState('live', 'You are live.');
}

async function stop(): Promise<void> {
  const p = publisher;
  if (!p) return;
  publisher = undefined;
  setState('stopping', 'Stopping…');
  await p.stop();
  share.hidden = true;
  setState('stopped', 'Stream ended. Go live again to start a new one.');
}

async function monitor(streamId: string): Promise<void> {
  hook.mode = 'monitor';
  root.dataset.mode = 'monitor';
  hook.streamId = streamId;
  hook.monitor.state = 'connecting';
  note.textContent = 'Connecting…';
  const t0 = performance.now();
  try {
    const m = await StudioMonitor.start(streamId, (reason) => {
      hook.monitor.state = 'ended';
      note.hidden = false;
      note.textContent = `Ended: ${reason}`;
    });
    hook.monitor.setupMs = m.setupMs;
    video.srcObject = m.media;
    video.requestVideoFrameCallback?.(() => { hook.monitor.firstFrameMs = Math.round(performance.now() - t0); });
    hook.monitor.state = 'playing';
    note.hidden = true;
    badge.textContent = 'Live';
    window.setInterval(() => { void m.framesDecoded().then((n) => { hook.monitor.framesDecoded = n; }); }, 500);
  } catch (err) {
    hook.monitor.state = 'error';
    hook.error = { code: err instanceof SignalError ? err.code : 'Error', message: (err as Error).message };
    note.textContent = explain(err);
  }
}

form.addEventListener('submit', (e) => { e.preventDefault(); void goLive(); });
stopButton.addEventListener('click', () => { void stop(); });
// Closing the tab while live: say goodbye so the stream ends now rather than after the grace.
window.addEventListener('pagehide', () => { void publisher?.stop(); });

// Stats for the status line and the hook, only while live.
window.setInterval(() => {
  if (!publisher) return;
  void publisher.videoStats().then((s) => {
    hook.framesEncoded = s.framesEncoded;
    hook.bytesSent = s.bytesSent;
    if (hook.state === 'live') statusEl.textContent = `You are live · ${Math.round((s.bytesSent * 8) / 1e6 * 10) / 10} Mbit sent`;
  }, () => {});
}, 500);

const view = new URLSearchParams(location.search).get('view');
if (view && /^[A-Za-z0-9_-]{1,64}$/.test(view)) void monitor(view);
else void startPreview();
