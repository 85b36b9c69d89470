import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { resolveWorkerBinary } from '../../src/webrtc/worker-binary.js';

/** Debian's Chromium, installed by scripts/setup.sh (tests never download a browser). */
export const CHROMIUM = '/usr/bin/chromium';

/** What this workplace's Chromium needs headless as root: no sandbox or GPU, no network chatter, no background throttling. */
const BASE_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  '--disable-renderer-backgrounding', '--disable-background-timer-throttling'];

/** Launch flags for pages that publish: a fake camera and microphone that getUserMedia grants at once. */
export const CAMERA_ARGS = [...BASE_ARGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'];

/** Launch flags for pages that only watch (muted autoplay allowed). */
export const VIEWER_ARGS = [...BASE_ARGS, '--autoplay-policy=no-user-gesture-required'];

/** Why a browser WebRTC test cannot run on this machine, or false when it can. */
export function webrtcSkip(): string | false {
  if (!resolveWorkerBinary()) return 'mediasoup-worker not found (set MEDIASOUP_WORKER_BIN or run bash native/mediasoup/build.sh)';
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} missing (apt-get install chromium)`;
  return false;
}

/** What a page's WHIP POST answered. */
export interface WhipPageResult { status: number; location: string | null; answer: string }

/**
 * Publishes the page's fake camera and microphone over WHIP with `key` (H.264 preferred), leaving
 * the RTCPeerConnection at window.pc. The page must be on the server's origin (a secure context).
 */
export function whipPublishFromPage(page: Page, key: string, size: { width: number; height: number } = { width: 640, height: 360 }): Promise<WhipPageResult> {
  return page.evaluate(async ({ key, size }) => {
    const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: { ...size, frameRate: 30 } });
    const pc = new RTCPeerConnection();
    (window as unknown as { pc: RTCPeerConnection }).pc = pc;
    pc.addTransceiver(media.getAudioTracks()[0]!, { direction: 'sendonly' });
    const video = pc.addTransceiver(media.getVideoTracks()[0]!, { direction: 'sendonly' });
    const codecs = RTCRtpSender.getCapabilities('video')!.codecs;
    video.setCodecPreferences([...codecs.filter((c) => c.mimeType === 'video/H264'), ...codecs.filter((c) => c.mimeType !== 'video/H264')]);
    await pc.setLocalDescription(await pc.createOffer());
    const res = await fetch('/whip', { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
    const answer = await res.text();
    if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    return { status: res.status, location: res.headers.get('location'), answer };
  }, { key, size });
}

/** What a page's WHEP POST answered and, when frames were awaited, what it received. */
export interface WhepPageResult { status: number; location: string | null; body: string; frames?: number; audioBytes?: number; firstFrameMs?: number }

/**
 * Watches a stream over WHEP from the page (recvonly audio + video; window.pc holds the
 * connection). With wantFrames, polls getStats (bounded by timeoutMs) until a video frame is
 * decoded; firstFrameMs is from the POST to that frame.
 */
export function whepWatchFromPage(page: Page, streamId: string, wantFrames = true, timeoutMs = 20_000): Promise<WhepPageResult> {
  return page.evaluate(async ({ streamId, wantFrames, timeoutMs }) => {
    const pc = new RTCPeerConnection();
    (window as unknown as { pc: RTCPeerConnection }).pc = pc;
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const started = performance.now();
    const res = await fetch(`/whep/${streamId}`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
    const body = await res.text();
    if (res.status !== 201) return { status: res.status, location: null, body };
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    const location = res.headers.get('location');
    if (!wantFrames) return { status: res.status, location, body };
    let frames = 0;
    let audioBytes = 0;
    while (performance.now() - started < timeoutMs) {
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') frames = s.framesDecoded ?? 0;
        if (s.type === 'inbound-rtp' && s.kind === 'audio') audioBytes = s.bytesReceived ?? 0;
      });
      if (frames > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return { status: res.status, location, body, frames, audioBytes, firstFrameMs: frames > 0 ? Math.round(performance.now() - started) : undefined };
  }, { streamId, wantFrames, timeoutMs });
}
