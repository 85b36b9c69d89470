/**
 * A stock hls.js player for bench/watch-latency: the hls.js in node_modules with its defaults plus
 * `lowLatencyMode: true`, as a shop that embeds its own player would run it. Served from its own
 * loopback server (the app's /hls answers CORS), exposing the same figures as the watch page's
 * window.__showcase hook so both are read by one sampler.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

/** The page's script: plays ?src= with stock hls.js and keeps window.__showcase current. */
const PLAYER_JS = `
const video = document.querySelector('video');
const src = new URLSearchParams(location.search).get('src');
const hook = { view: 'connecting', latency: null, wallLatency: null, targetLatency: null, level: -1, levels: [], firstFrameMs: null, stalls: 0, buffer: 0, fatal: null, errors: [], stallErrors: 0, stallErrorsBeforePlaying: 0, targetAtFirstFrame: null, latencyAtFirstFrame: null, startup: [], waitedMs: 0, requests: [] };
let waitingSince = null;
// Where the start-up time goes: ms from page start to each first event, and where hls.js chose to start.
const mark = (what) => { if (hook.startup.length < 30) hook.startup.push(what + '@' + Math.round(performance.now())); };
window.__showcase = hook;
const hls = new Hls({ lowLatencyMode: true });
// hls.js raises BUFFER_STALLED_ERROR and adds liveSyncOnStallIncrease (1 s) to its target each time:
// counted from the first request, because a stall while starting moves the target as much as one later.
hls.on(Hls.Events.ERROR, (_e, d) => { if (d.details === Hls.ErrorDetails.BUFFER_STALLED_ERROR) { hook.stallErrors++; if (hook.view !== 'playing') hook.stallErrorsBeforePlaying++; } if (hook.errors.length < 50) hook.errors.push(d.details); if (d.fatal) hook.fatal = d.details; });
hls.on(Hls.Events.MANIFEST_PARSED, () => { hook.levels = hls.levels.map((l) => ({ name: l.height ? l.height + 'p' : String(l.bitrate) })); video.play().catch(() => {}); });
hls.once(Hls.Events.MANIFEST_PARSED, () => mark('manifest'));
hls.once(Hls.Events.LEVEL_LOADED, (_e, d) => mark('level(edge ' + d.details.edge.toFixed(2) + ' sync ' + (hls.liveSyncPosition ?? NaN).toFixed(2) + ')'));
hls.once(Hls.Events.FRAG_LOADING, (_e, d) => mark('fragLoading(sn ' + d.frag.sn + ' start ' + d.frag.start.toFixed(2) + (d.part ? ' part ' + d.part.index : '') + ')'));
hls.once(Hls.Events.FRAG_BUFFERED, () => mark('buffered(t ' + video.currentTime.toFixed(2) + ')'));
video.addEventListener('seeking', () => mark('seeking(' + video.currentTime.toFixed(2) + ')'), { once: true });
hls.loadSource(src);
hls.attachMedia(video);
if (typeof video.requestVideoFrameCallback === 'function') video.requestVideoFrameCallback((now) => { hook.firstFrameMs ??= now; hook.targetAtFirstFrame = hls.targetLatency; hook.latencyAtFirstFrame = hls.latency; mark('frame(t ' + video.currentTime.toFixed(2) + ' latency ' + hls.latency.toFixed(2) + ')');
  // Each request before the first frame: sent, first byte, last byte (ms since page start), to tell the origin's time from the player's.
  for (const r of performance.getEntriesByType('resource').slice(0, 14)) hook.requests.push(r.name.split('/').pop().slice(0, 40) + ' ' + Math.round(r.startTime) + '/' + Math.round(r.responseStart) + '/' + Math.round(r.responseEnd));
});
else video.addEventListener('playing', () => { hook.firstFrameMs ??= performance.now(); }, { once: true });
// With maxLiveSyncPlaybackRate 1 every ms spent waiting after the first frame is latency kept for good.
video.addEventListener('playing', () => { hook.view = 'playing'; if (waitingSince !== null) { hook.waitedMs += performance.now() - waitingSince; mark('resumed'); waitingSince = null; } });
video.addEventListener('waiting', () => { if (hook.view === 'playing') { hook.stalls++; waitingSince ??= performance.now(); mark('waiting(t ' + video.currentTime.toFixed(2) + ')'); } });
setInterval(() => {
  hook.latency = hls.latency > 0 ? hls.latency : null;
  hook.targetLatency = hls.targetLatency;
  hook.wallLatency = hls.playingDate ? (Date.now() - hls.playingDate.getTime()) / 1000 : null;
  hook.level = hls.currentLevel;
  const b = video.buffered;
  hook.buffer = 0;
  for (let i = 0; i < b.length; i++) if (b.start(i) <= video.currentTime + 0.1 && b.end(i) >= video.currentTime) hook.buffer = b.end(i) - video.currentTime;
}, 250);
`;

const PAGE = '<!doctype html><meta charset="utf-8"><title>stock hls.js</title><video muted autoplay playsinline></video><script src="/hls.min.js"></script><script src="/player.js"></script>';

/** Serves the stock player on 127.0.0.1; url(hlsUrl) is the page playing that master playlist. */
export async function serveStockPlayer(): Promise<{ url(hlsUrl: string): string; close(): Promise<void> }> {
  const hlsJs = readFileSync(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'));
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const [type, body] = path === '/hls.min.js' ? ['text/javascript', hlsJs] : path === '/player.js' ? ['text/javascript', PLAYER_JS] : path === '/' ? ['text/html', PAGE] : [undefined, undefined];
    if (!type) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (hlsUrl) => `http://127.0.0.1:${port}/?src=${encodeURIComponent(hlsUrl)}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
