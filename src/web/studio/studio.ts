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
import { mountDashboard, type ConsoleState } from './dashboard/dashboard.js';
import { mountControlRoom, newControlRoomHook, type ControlRoomHook } from './control-room/control-room.js';
import { loadToken } from './creator-api.js';

type State = 'idle' | 'preview' | 'connecting' | 'live' | 'reconnecting' | 'stopping' | 'stopped' | 'error';

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
  /** Times the page went live again by itself after losing the connection. */
  reconnects: number;
  /** The camera being sent: its label, how many cameras there are, switches made. */
  camera: { label: string; count: number; switches: number; switching: boolean };
  monitor: { state: 'idle' | 'connecting' | 'playing' | 'ended' | 'error'; framesDecoded: number; setupMs: number | null; firstFrameMs: number | null };
  /** The creator console: signed in, streams per group, the last API error in words. */
  console: ConsoleState;
  /** The control room (/studio?stream=<id>, signed in): products, highlight, promos, counts, chat. */
  controlRoom: ControlRoomHook | null;
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
const flipButton = byId<HTMLButtonElement>('flip');

const hook: StudioHook = {
  mode: 'studio', state: 'idle', streamId: null, error: null, connection: null, codecs: [], framesEncoded: 0, bytesSent: 0, goLiveMs: null,
  camera: { label: '', count: 0, switches: 0, switching: false }, reconnects: 0,
  monitor: { state: 'idle', framesDecoded: 0, setupMs: null, firstFrameMs: null },
  console: { signedIn: false, counts: { upcoming: 0, live: 0, past: 0 }, error: null },
  controlRoom: null,
};
window.__studio = hook;

let media: MediaStream | undefined;
let publisher: StudioPublisher | undefined;

const BADGES: Record<State, string> = { idle: 'Offline', preview: 'Preview', connecting: 'Connecting', live: 'Live', reconnecting: 'Reconnecting', stopping: 'Stopping', stopped: 'Offline', error: 'Offline' };

/**
 * After a lost connection (a tunnel, a network switch) the page goes live again by itself for
 * this long: the server holds the stream for its reconnect grace (10 s by default), so a
 * reconnect inside it continues the same stream, playlists and recording.
 */
const RECONNECT_BUDGET_MS = 30_000;
/** Codes a retry cannot fix: the key is wrong, or the stream already ended. */
const FINAL_CODES = new Set(['SHOWCASE_ERR_RTMP_BAD_KEY', 'SHOWCASE_ERR_STREAM_ENDED', 'SHOWCASE_ERR_VALIDATION', 'SHOWCASE_ERR_SIGNAL_BAD_MESSAGE']);
let reconnectTimer: number | undefined;
/** Wait before reconnect attempt n (0-based): 0.5, 1, 2, then 4 s. */
const backoffMs = (attempt: number): number => Math.min(500 * 2 ** attempt, 4000);

function setState(state: State, text: string): void {
  hook.state = state;
  root.dataset.state = state;
  badge.textContent = BADGES[state];
  statusEl.textContent = text;
  const busy = state === 'connecting' || state === 'stopping' || state === 'reconnecting';
  goButton.disabled = busy || state === 'live';
  stopButton.disabled = state !== 'live' && state !== 'connecting' && state !== 'reconnecting';
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
const VIDEO_CONSTRAINTS = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30, max: 30 } };

/** Shows the camera in use and offers the switch when the device has more than one. */
async function showCamera(track: MediaStreamTrack | undefined): Promise<void> {
  root.dataset.facing = track?.getSettings().facingMode ?? 'user';
  hook.camera.label = track?.label ?? '';
  try {
    hook.camera.count = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput').length;
  } catch {
    hook.camera.count = 1;
  }
  flipButton.hidden = hook.camera.count < 2;
}

/**
 * Front/back camera (or the next camera on a desktop), also while live: the old camera is released
 * first (phones cannot open two at once), the new track replaces it in the preview and on the
 * producer. If the other camera cannot be opened, the previous one comes back.
 */
async function flipCamera(): Promise<void> {
  const old = media?.getVideoTracks()[0];
  if (!media || !old || hook.camera.switching) return;
  hook.camera.switching = true;
  flipButton.disabled = true;
  try {
    const cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
    const current = old.getSettings().deviceId;
    const facing = old.getSettings().facingMode;
    const next = cameras[(cameras.findIndex((d) => d.deviceId === current) + 1) % Math.max(cameras.length, 1)];
    // A phone says which way its camera faces: ask for the other side, which picks its main camera
    // (phones also list ultra-wide, tele and depth cameras). Otherwise (desktops) the next camera.
    const want: MediaTrackConstraints = facing === 'user' || facing === 'environment' || !next?.deviceId || next.deviceId === current
      ? { ...VIDEO_CONSTRAINTS, facingMode: { exact: facing === 'environment' ? 'user' : 'environment' } }
      : { ...VIDEO_CONSTRAINTS, deviceId: { exact: next.deviceId } };
    old.stop();
    let track: MediaStreamTrack;
    try {
      track = (await navigator.mediaDevices.getUserMedia({ video: want })).getVideoTracks()[0]!;
    } catch (err) {
      track = (await navigator.mediaDevices.getUserMedia({ video: { ...VIDEO_CONSTRAINTS, deviceId: current ? { exact: current } : undefined } })).getVideoTracks()[0]!;
      statusEl.textContent = `Could not switch camera: ${(err as Error).message}`;
    }
    media.removeTrack(old);
    media.addTrack(track);
    video.srcObject = media;
    await publisher?.replaceVideoTrack(track);
    if (track.getSettings().deviceId !== current) hook.camera.switches++;
    await showCamera(track);
  } catch (err) {
    statusEl.textContent = `Could not switch camera: ${(err as Error).message}`;
  } finally {
    hook.camera.switching = false;
    flipButton.disabled = false;
  }
}

async function startPreview(): Promise<void> {
  if (!navigator.mediaDevices?.getUserMedia) {
    note.textContent = 'This browser cannot use the camera here (the studio needs HTTPS).';
    return fail(new Error('getUserMedia is not available (open the studio over https)'));
  }
  try {
    media = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true },
      video: { facingMode: 'user', ...VIDEO_CONSTRAINTS },
    });
  } catch (err) {
    note.textContent = 'Camera or microphone blocked';
    return fail(err);
  }
  await showCamera(media.getVideoTracks()[0]);
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
    await publish(key);
  } catch (err) {
    publisher = undefined;
    return fail(err);
  }
  hook.goLiveMs = Math.round(performance.now() - t0);
  setState('live', 'You are live.');
}

/** One publish with the key; a lost connection afterwards starts the reconnect loop. */
async function publish(key: string): Promise<void> {
  publisher = await StudioPublisher.start(key, media!, {
    onConnectionState: (s) => { hook.connection = s; },
    onEnded: (reason, code) => {
      publisher = undefined;
      hook.error = { code, message: reason };
      if (code === 'SHOWCASE_ERR_SIGNAL_LOST') return reconnect(key, Date.now() + RECONNECT_BUDGET_MS, 0);
      share.hidden = true;
      setState('error', `The stream stopped: ${reason}`);
    },
  });
  hook.streamId = publisher.streamId;
  hook.codecs = publisher.codecs;
  shareLink.href = `/watch/${publisher.streamId}`;
  shareLink.textContent = new URL(shareLink.href, location.href).href;
  share.hidden = false;
}

/** Tries to go live again (backing off 0.5, 1, 2, 4 s) until the budget is spent or the server says no for good. */
function reconnect(key: string, deadline: number, attempt: number): void {
  setState('reconnecting', 'Connection lost. Reconnecting…');
  reconnectTimer = window.setTimeout(() => {
    reconnectTimer = undefined;
    if (hook.state !== 'reconnecting') return; // Stop was tapped meanwhile
    publish(key).then(() => {
      if (hook.state !== 'reconnecting') { void stop(); return; }
      hook.reconnects++;
      hook.error = null;
      setState('live', 'You are live again.');
    }, (err: unknown) => {
      publisher = undefined;
      const code = err instanceof SignalError ? err.code : '';
      if (hook.state !== 'reconnecting') return;
      if (FINAL_CODES.has(code) || Date.now() + backoffMs(attempt + 1) > deadline) {
        share.hidden = true;
        return fail(err);
      }
      reconnect(key, deadline, attempt + 1);
    });
  }, backoffMs(attempt));
}

async function stop(): Promise<void> {
  const p = publisher;
  if (hook.state === 'reconnecting') {
    // Nothing is connected: stop trying. The server ends the stream when its grace runs out.
    if (reconnectTimer !== undefined) window.clearTimeout(reconnectTimer);
    reconnectTimer = undefined;
    share.hidden = true;
    setState('stopped', 'Stopped. Go live again to start a new one.');
    return;
  }
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
flipButton.addEventListener('click', () => { void flipCamera(); });
// Closing the tab while live: say goodbye so the stream ends now rather than after the grace.
window.addEventListener('pagehide', () => { void publisher?.stop(); });

// Stats for the status line and the hook, only while live.
window.setInterval(() => {
  if (!publisher) return;
  void publisher.videoStats().then((s) => {
    hook.framesEncoded = s.framesEncoded;
    hook.bytesSent = s.bytesSent;
    if (hook.state === 'live') statusEl.textContent = `You are live · ${Math.round((s.bytesSent * 8) / 1e6 * 10) / 10} Mbit sent`;
  }, (err: unknown) => console.warn('studio: sender stats failed', err));
}, 500);

const view = new URLSearchParams(location.search).get('view');
// The control room for one stream (also while OBS is the camera), once signed in.
const roomStream = new URLSearchParams(location.search).get('stream');
const roomToken = loadToken();
const controlRoom = !view && roomToken && roomStream && /^[A-Za-z0-9_-]{1,64}$/.test(roomStream) ? { streamId: roomStream, token: roomToken } : undefined;
if (view && /^[A-Za-z0-9_-]{1,64}$/.test(view)) void monitor(view);
// In the control room the camera waits for Go live: OBS (or another phone) may be the camera.
else if (!controlRoom) void startPreview();
else {
  root.dataset.mode = 'control-room';
  note.textContent = 'Camera off · Go live here opens this device\'s camera';
}
if (!view) mountDashboard(byId('console'), hook.console);
if (controlRoom) {
  hook.controlRoom = newControlRoomHook(controlRoom.streamId);
  mountControlRoom(byId('control-room'), controlRoom.token, hook.controlRoom);
}
