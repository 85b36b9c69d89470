import type { Test } from 'tap';
import { waitFor, type TestServer } from './server.js';

/** The three per-stream ingest series of /metrics, as numbers (undefined when the series is absent). */
function series(text: string, id: string): { bytes?: number; fps?: number; keyframe?: number } {
  const value = (name: string): number | undefined => {
    const m = new RegExp(`^${name}\\{stream="${id}"\\} ([0-9.e+-]+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  return {
    bytes: value('showcase_stream_ingest_bytes_per_second'),
    fps: value('showcase_stream_ingest_frame_rate_frames_per_second'),
    keyframe: value('showcase_stream_keyframe_interval_seconds'),
  };
}

/**
 * Asserts that a live stream's ingest is measured, whatever its protocol: non-zero bitrate, frame
 * rate and keyframe interval in GET /v1/streams/:id and /metrics, and the bitrate in the analytics
 * timeline. Frame rate and keyframe spacing are checked against what the publisher sends.
 */
export async function expectIngestMeasured(t: Test, srv: TestServer, id: string, what: string, expect: { minFps: number; maxFps: number; maxKeyframeSeconds: number }): Promise<void> {
  const ingest = await waitFor(async () => {
    const r = await srv.api('GET', `/v1/streams/${id}`);
    const i = r.json.live?.ingest as { bitsPerSecond: number; framesPerSecond: number; keyframeIntervalSeconds: number } | undefined;
    return i && i.bitsPerSecond > 0 && i.framesPerSecond >= expect.minFps && i.keyframeIntervalSeconds > 0 ? i : undefined;
  }, `${what}: ingest measured in GET /v1/streams/:id`, 20000, 250);
  t.ok(ingest.bitsPerSecond > 20_000, `${what}: ingest bitrate ${Math.round(ingest.bitsPerSecond)} b/s`);
  t.ok(ingest.framesPerSecond >= expect.minFps && ingest.framesPerSecond <= expect.maxFps, `${what}: ingest frame rate ${ingest.framesPerSecond} fps`);
  t.ok(ingest.keyframeIntervalSeconds > 0 && ingest.keyframeIntervalSeconds <= expect.maxKeyframeSeconds, `${what}: keyframe interval ${ingest.keyframeIntervalSeconds} s`);
  const m = await waitFor(async () => {
    const s = series((await (await fetch(`${srv.base}/metrics`)).text()), id);
    return (s.bytes ?? 0) > 0 && (s.fps ?? 0) > 0 && (s.keyframe ?? 0) > 0 ? s : undefined;
  }, `${what}: ingest series in /metrics`, 10000, 250);
  t.pass(`${what}: /metrics ingest ${Math.round(m.bytes! * 8)} b/s, ${m.fps} fps, keyframe every ${m.keyframe} s`);
  const timeline = await waitFor(async () => {
    const a = await srv.api('GET', `/v1/streams/${id}/analytics`);
    const tl = a.json.timeline as Array<{ ingestBitsPerSecond: number | null }> | undefined;
    return tl?.some((x) => (x.ingestBitsPerSecond ?? 0) > 0) ? tl : undefined;
  }, `${what}: ingest bitrate in the analytics timeline`, 10000, 250);
  t.ok(timeline.length >= 1, `${what}: the analytics timeline carries the ingest bitrate`);
}
