import t from 'tap';
import { startServer, waitFor, getText } from '../helpers/server.js';
import { publishRtmp } from '../helpers/ffmpeg.js';
import { parsePromText } from '../helpers/prom-text.js';
import { lintPromFamilies } from '../helpers/prom-lint.js';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** promtool, unpacked by scripts/setup.sh from Debian's prometheus package. */
const promtool = process.env.PROMTOOL ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'showcase-tools', 'promtool');

const srv = await startServer({ metrics: { sessionTimeoutMs: 3000, endedSeriesGraceMs: 2000 } });
t.teardown(() => srv.close());

/** A player as hls.js would be: multivariant once, then blocking playlist reloads and each new part. */
async function viewer(master: string, until: number): Promise<{ sid: string; requests: number }> {
  const mv = await getText(master);
  const uri = /\n(180p\/index\.m3u8\?_sid=([A-Za-z0-9_-]+))\n/.exec(mv.text)!;
  const base = master.replace(/master\.m3u8$/, '');
  let requests = 0;
  let pl = await getText(base + uri[1]);
  while (Date.now() < until) {
    const hint = /PRELOAD-HINT:TYPE=PART,URI="p(\d+)\.(\d+)\.m4s\?_sid=[^"]+"/.exec(pl.text);
    if (!hint) break;
    const part = await fetch(`${base}180p/p${hint[1]}.${hint[2]}.m4s?_sid=${uri[2]}`);
    await part.arrayBuffer();
    pl = await getText(`${base}${uri[1]}&_HLS_msn=${hint[1]}&_HLS_part=${hint[2]}`);
    requests += 2;
  }
  return { sid: uri[2]!, requests };
}

t.test('watch seconds from real HTTP viewers are exact; stopped viewers stop counting', async (t) => {
  const { id, streamKey } = await srv.createStream();
  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 40);
  t.teardown(() => pub.kill('SIGKILL'));
  const master = `${srv.base}/hls/${id}/master.m3u8`;
  // Wait in-process (a GET of the multivariant playlist would itself open a viewer session).
  await waitFor(() => srv.app.origin.get(id)?.ready(), 'media ready');
  const N = 4;
  const T = 12;
  const stopAt = Date.now() + (T + 6) * 1000;
  const viewers = Array.from({ length: N }, () => viewer(master, stopAt));
  // Measure between two ticks once every viewer has been active for a while.
  const ticks: number[] = [];
  const onTick = () => {
    const s = srv.app.ticker.snapshot(id);
    ticks.push(s ? s.watchSeconds.hls.live : 0);
  };
  await new Promise((r) => setTimeout(r, 3000));
  srv.app.ticker.on('tick', onTick);
  await waitFor(() => ticks.length > T, 'T ticks', (T + 5) * 1000);
  srv.app.ticker.off('tick', onTick);
  const delta = ticks[T]! - ticks[0]!;
  t.ok(Math.abs(delta - N * T) <= 0.02 * N * T, `watch seconds ${delta} within 2 % of ${N * T}`);
  const current = srv.app.ticker.snapshot(id)!;
  t.equal(current.viewersTotal, N, `${N} concurrent viewers`);
  const done = await Promise.all(viewers);
  t.ok(done.every((v) => v.requests > 10), 'viewers kept fetching');
  // After the timeout they are no longer counted.
  await waitFor(() => srv.app.ticker.snapshot(id)?.viewersTotal === 0, 'viewers expire', 8000);

  // A player behind a CDN sends heartbeats instead.
  const mv = await getText(master);
  const sid = /_sid=([A-Za-z0-9_-]+)/.exec(mv.text)![1]!;
  const hb = async () => fetch(`${srv.base}/v1/streams/${id}/heartbeat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionId: sid }) });
  t.equal((await hb()).status, 204);
  const before = srv.app.ticker.snapshot(id)!.watchSeconds.hls.live;
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    await hb();
  }
  const after = srv.app.ticker.snapshot(id)!.watchSeconds.hls.live;
  t.ok(after - before >= 3 && after - before <= 6, `heartbeats count (${after - before} s)`);
  t.equal((await fetch(`${srv.base}/v1/streams/nope/heartbeat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionId: sid }) })).status, 404, 'unknown stream 404');
  t.equal((await fetch(`${srv.base}/v1/streams/${id}/heartbeat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionId: 'forged-session-id' }) })).status, 404, 'forged session refused');

  // /metrics parses and follows the naming conventions.
  const text = (await getText(`${srv.base}/metrics`)).text;
  const fams = parsePromText(text);
  t.same(lintPromFamilies(fams.values()), [], 'every name follows the conventions');
  t.ok(existsSync(promtool), `promtool installed by scripts/setup.sh (${promtool})`);
  const check = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  t.equal(check.status, 0, `promtool check metrics passes: ${(check.stdout + check.stderr).trim().slice(0, 500)}`);
  for (const name of ['showcase_stream_viewers', 'showcase_watch_seconds_total', 'showcase_stream_ingest_bytes_per_second', 'showcase_stream_ingest_frame_rate_frames_per_second', 'showcase_stream_keyframe_interval_seconds', 'showcase_transcoder_speed_ratio', 'showcase_transcoder_restarts_total', 'showcase_hls_part_publish_latency_seconds', 'showcase_hls_blocking_requests_in_flight', 'showcase_streams_live', 'showcase_http_request_duration_seconds', 'showcase_rtmp_connections', 'showcase_rtmp_refusals_total', 'showcase_process_cpu_seconds_total']) {
    t.ok(fams.has(name), `${name} exported`);
  }
  const bitrate = fams.get('showcase_stream_ingest_bytes_per_second')!.samples.find((s) => s.labels.stream === id);
  t.ok(bitrate && bitrate.value > 2_000, 'ingest rate measured');
  t.ok(fams.get('showcase_watch_seconds_total')!.samples.some((s) => s.labels.stream === id && s.value > 0), 'watch seconds exported for the stream');

  // Analytics API.
  const a = await srv.api('GET', `/v1/streams/${id}/analytics`);
  t.equal(a.status, 200);
  t.ok(a.json.watchMinutes.live > 0);
  t.equal(a.json.peakConcurrentViewers, N);
  t.ok(a.json.uniqueViewers >= N, 'unique viewers counted');
  t.ok(a.json.timeline.length >= 1, 'per-minute timeline');
  t.ok(a.json.timeline.some((m: { ingestBitsPerSecond: number | null }) => (m.ingestBitsPerSecond ?? 0) > 10_000), `the timeline carries the ingest bitrate (${JSON.stringify(a.json.timeline.map((m: { ingestBitsPerSecond: number | null }) => m.ingestBitsPerSecond))})`);

  // End the stream: its series disappear after the grace period.
  pub.kill('SIGINT');
  await srv.api('DELETE', `/v1/streams/${id}`).catch(() => undefined);
  await waitFor(async () => {
    const txt = (await getText(`${srv.base}/metrics`)).text;
    return !txt.includes(`stream="${id}"`);
  }, 'series dropped after the grace period', 15000, 500);
});

t.test('creator stats sum minutes streamed per month', async (t) => {
  const { minutesByMonth } = await import('../../src/http/metrics-routes.js');
  const m = minutesByMonth([{ startedAt: Date.UTC(2026, 0, 31, 23, 30), endedAt: Date.UTC(2026, 1, 1, 0, 45) }, { startedAt: Date.UTC(2026, 1, 3), endedAt: Date.UTC(2026, 1, 3, 0, 10) }, { startedAt: null, endedAt: null }], Date.now());
  t.same(m, { '2026-01': 30, '2026-02': 55 });
  const c = await srv.api('POST', '/v1/creators', { handle: 'statsy', displayName: 'S' });
  const r = await srv.api('GET', `/v1/creators/${c.json.id}/stats`, undefined, c.json.token);
  t.equal(r.status, 200);
  t.same(r.json.minutesStreamedByMonth, {});
});
