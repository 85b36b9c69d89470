import { existsSync } from 'node:fs';
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
