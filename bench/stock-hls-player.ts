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
const hook = { view: 'connecting', latency: null, wallLatency: null, targetLatency: null, level: -1, levels: [], firstFrameMs: null, stalls: 0, fatal: null, errors: [] };
window.__showcase = hook;
const hls = new Hls({ lowLatencyMode: true });
hls.on(Hls.Events.ERROR, (_e, d) => { if (hook.errors.length < 50) hook.errors.push(d.details); if (d.fatal) hook.fatal = d.details; });
hls.on(Hls.Events.MANIFEST_PARSED, () => { hook.levels = hls.levels.map((l) => ({ name: l.height ? l.height + 'p' : String(l.bitrate) })); video.play().catch(() => {}); });
hls.loadSource(src);
hls.attachMedia(video);
if (typeof video.requestVideoFrameCallback === 'function') video.requestVideoFrameCallback((now) => { hook.firstFrameMs ??= now; });
else video.addEventListener('playing', () => { hook.firstFrameMs ??= performance.now(); }, { once: true });
video.addEventListener('playing', () => { hook.view = 'playing'; });
video.addEventListener('waiting', () => { if (hook.view === 'playing') hook.stalls++; });
setInterval(() => {
  hook.latency = hls.latency > 0 ? hls.latency : null;
  hook.targetLatency = hls.targetLatency;
  hook.wallLatency = hls.playingDate ? (Date.now() - hls.playingDate.getTime()) / 1000 : null;
  hook.level = hls.currentLevel;
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
