/**
 * WebRTC glass-to-glass latency on loopback: a Debian Chromium page draws its clock
 * (performance.timeOrigin + now(), ms mod 2^24) into a canvas as a 24-block barcode and publishes
 * canvas.captureStream() over WHIP; a second page of the same browser (same clock) plays the stream
 * over WHEP, draws each presented frame (requestVideoFrameCallback) to a canvas, decodes the barcode
 * and records now minus the drawn time. That is capture -> encode -> mediasoup -> decode -> present.
 * Run: node dist/bench/webrtc-latency.js [--seconds 20]
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ShowcaseApp } from '../src/app.js';
import { resolveWorkerBinary } from '../src/webrtc/worker-binary.js';
import { CHROMIUM_ARGS } from './watch-latency.js';

export interface WebRtcLatencyResult {
  glassToGlassP50Ms: number;
  glassToGlassP95Ms: number;
  samples: number;
  undecodable: number;
  whepFirstFrameMs: number;
  seconds: number;
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
}

/** Barcode geometry, shared by both pages (passed in): 6 x 4 blocks of 24 bits on a 320x240 canvas. */
const CODE = { w: 320, h: 240, cols: 6, rows: 4, bits: 24 };

export async function runWebRtcLatencyBench(opts: { seconds?: number; quick?: boolean } = {}): Promise<WebRtcLatencyResult> {
  const seconds = opts.seconds ?? (opts.quick ? 10 : 20);
  if (!existsSync('/usr/bin/chromium')) throw new Error('Debian chromium missing (/usr/bin/chromium)');
  if (!resolveWorkerBinary()) throw new Error('mediasoup-worker missing (bash native/mediasoup/build.sh or MEDIASOUP_WORKER_BIN)');
  const dataDir = mkdtempSync(join(tmpdir(), 'showcase-bench-'));
  const app = await ShowcaseApp.start({
    env: {},
    overrides: { logLevel: 'warn', dataDir, adminToken: 'bench', http: { port: 0, host: '127.0.0.1' }, rtmp: { port: 0, host: '127.0.0.1' },
      webrtc: { enabled: true, workers: 1, listenIp: '127.0.0.1' } },
    logDestination: process.stderr,
  });
  let browser: Browser | undefined;
  try {
    const base = `http://127.0.0.1:${app.httpPort}`;
    const res = await fetch(`${base}/v1/streams`, { method: 'POST', headers: { authorization: 'Bearer bench', 'content-type': 'application/json' }, body: JSON.stringify({ title: 'WebRTC latency bench' }) });
    const s = (await res.json()) as { id: string; streamKey: string };
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const pub = await browser.newPage();
    await pub.goto(`${base}/healthz`);
    const status = await pub.evaluate(async ({ key, code }) => {
      const canvas = document.createElement('canvas');
      canvas.width = code.w;
      canvas.height = code.h;
      document.body.appendChild(canvas);
      const ctx = canvas.getContext('2d')!;
      const bw = code.w / code.cols;
      const bh = code.h / code.rows;
      const draw = (): void => {
        const t = Math.floor(performance.timeOrigin + performance.now()) % 2 ** code.bits;
        for (let i = 0; i < code.bits; i++) {
          ctx.fillStyle = (t >> i) & 1 ? '#fff' : '#000';
          ctx.fillRect((i % code.cols) * bw, Math.floor(i / code.cols) * bh, bw, bh);
        }
      };
      draw();
      setInterval(draw, 1000 / 60);
      const pc = new RTCPeerConnection();
      const track = canvas.captureStream(30).getVideoTracks()[0]!;
      const tr = pc.addTransceiver(track, { direction: 'sendonly' });
      const codecs = RTCRtpSender.getCapabilities('video')!.codecs;
      tr.setCodecPreferences([...codecs.filter((c) => c.mimeType === 'video/H264'), ...codecs.filter((c) => c.mimeType !== 'video/H264')]);
      await pc.setLocalDescription(await pc.createOffer());
      const r = await fetch('/whip', { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
      const answer = await r.text();
      if (r.status !== 201) return `${r.status} ${answer}`;
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      (window as unknown as { pc: RTCPeerConnection }).pc = pc;
      return 'ok';
    }, { key: s.streamKey, code: CODE });
    if (status !== 'ok') throw new Error(`WHIP publish failed: ${status}`);
    // The WHIP session attaches its source once media flows: wait (bounded) for the stream to be live.
    for (let i = 0; i < 150 && !app.whep?.hasSource(s.id); i++) await new Promise((r) => setTimeout(r, 100));
    if (!app.whep?.hasSource(s.id)) throw new Error('the WHIP stream never became playable over WHEP');

    const viewer = await browser.newPage();
    await viewer.goto(`${base}/healthz`);
    const r = await viewer.evaluate(async ({ id, code, seconds }) => {
      const pc = new RTCPeerConnection();
      pc.addTransceiver('video', { direction: 'recvonly' });
      const video = document.createElement('video');
      video.muted = true;
      video.autoplay = true;
      document.body.appendChild(video);
      pc.ontrack = (e) => { video.srcObject = new MediaStream([e.track]); void video.play().catch(() => {}); };
      await pc.setLocalDescription(await pc.createOffer());
      const t0 = performance.now();
      const res = await fetch(`/whep/${id}`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
      const body = await res.text();
      if (res.status !== 201) return { error: `${res.status} ${body}`, latencies: [], bad: 0, firstFrameMs: NaN };
      await pc.setRemoteDescription({ type: 'answer', sdp: body });
      const canvas = document.createElement('canvas');
      canvas.width = code.w;
      canvas.height = code.h;
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      const bw = code.w / code.cols;
      const bh = code.h / code.rows;
      const latencies: number[] = [];
      let bad = 0;
      let firstFrameMs = NaN;
      const end = await new Promise<void>((resolve) => {
        let stopAt = Infinity;
        const onFrame = (): void => {
          const now = Math.floor(performance.timeOrigin + performance.now()) % 2 ** code.bits;
          if (Number.isNaN(firstFrameMs)) { firstFrameMs = Math.round(performance.now() - t0); stopAt = performance.now() + seconds * 1000; }
          ctx.drawImage(video, 0, 0, code.w, code.h);
          let v = 0;
          let ok = true;
          for (let i = 0; i < code.bits; i++) {
            const cx = Math.floor((i % code.cols) * bw + bw / 2);
            const cy = Math.floor(Math.floor(i / code.cols) * bh + bh / 2);
            const px = ctx.getImageData(cx - 4, cy - 4, 8, 8).data;
            let sum = 0;
            for (let k = 0; k < px.length; k += 4) sum += px[k]! + px[k + 1]! + px[k + 2]!;
            const mean = sum / (px.length / 4) / 3;
            if (mean > 90 && mean < 165) ok = false; // a block mid-transition: not a clean reading
            if (mean >= 128) v |= 1 << i;
          }
          const lat = (now - v + 2 ** code.bits) % 2 ** code.bits;
          if (ok && lat < 10_000) latencies.push(lat);
          else bad++;
          if (performance.now() >= stopAt) resolve();
          else video.requestVideoFrameCallback(onFrame);
        };
        video.requestVideoFrameCallback(onFrame);
        // Bounded even if no frame ever comes.
        setTimeout(resolve, seconds * 1000 + 20_000);
      });
      void end;
      pc.close();
      return { error: '', latencies, bad, firstFrameMs };
    }, { id: s.id, code: CODE, seconds });
    if (r.error) throw new Error(`WHEP play failed: ${r.error}`);
    if (r.latencies.length === 0) throw new Error(`no decodable frame (${r.bad} unreadable)`);
    return {
      glassToGlassP50Ms: pct(r.latencies, 50),
      glassToGlassP95Ms: pct(r.latencies, 95),
      samples: r.latencies.length,
      undecodable: r.bad,
      whepFirstFrameMs: r.firstFrameMs,
      seconds,
    };
  } finally {
    await browser?.close().catch(() => {});
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--seconds');
  const r = await runWebRtcLatencyBench({ seconds: i > 0 ? Number(process.argv[i + 1]) : undefined });
  console.table([
    { figure: 'WebRTC glass-to-glass p50 / p95', value: `${r.glassToGlassP50Ms} / ${r.glassToGlassP95Ms} ms (${r.samples} frames, ${r.undecodable} unreadable, ${r.seconds} s)`, target: 'p50 <= 250 ms' },
    { figure: 'WHEP first frame (WHIP stream)', value: `${r.whepFirstFrameMs} ms`, target: '' },
  ]);
  process.exit(0);
}
