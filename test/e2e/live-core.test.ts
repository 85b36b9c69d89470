import t from 'tap';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, waitFor, getText, getBytes } from '../helpers/server.js';
import { expectIngestMeasured } from '../helpers/ingest-metrics.js';
import { publishRtmp, ffprobe } from '../helpers/ffmpeg.js';
import { partGrid } from '../../src/transcode/ladder.js';
import { announcedPartTarget } from '../../src/playback/hls/playlist-writer.js';

const srv = await startServer();
t.teardown(() => srv.close());

function tag(pl: string, name: string): string | undefined {
  return new RegExp(`^#${name}:(.*)$`, 'm').exec(pl)?.[1];
}

t.test('OBS-style RTMP publish becomes an aligned LL-HLS ladder', async (t) => {
  const created = await srv.api('POST', '/v1/streams', { title: 'Spring sale' });
  t.equal(created.status, 201);
  const s = created.json;
  t.match(s, { id: String, streamKey: String, ingest: { rtmpUrl: `rtmp://127.0.0.1:${srv.app.rtmpPort}/live`, streamKey: s.streamKey }, playback: { hls: `${srv.base}/hls/${s.id}/master.m3u8` }, state: 'idle' });
  t.equal((await srv.api('GET', `/v1/streams/${s.id}`)).json.state, 'idle');

  const pub = publishRtmp(`${srv.rtmp}/${s.streamKey}`, 9);
  const master = await waitFor(async () => {
    const r = await getText(s.playback.hls);
    return r.status === 200 ? r : undefined;
  }, 'multivariant playlist', 15000);
  const ready = Date.now();
  t.equal(master.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  t.equal(master.headers.get('access-control-allow-origin'), '*');
  t.match(master.text, /index\.m3u8\?_sid=/, 'the multivariant hands out a viewer session');
  t.equal(master.headers.get('cache-control'), 'private, no-store', 'so no shared cache hands that session to others');
  const variants = [...master.text.matchAll(/#EXT-X-STREAM-INF:(.*)\n(.*)/g)];
  t.equal(variants.length, 2, 'two renditions for a 180p source with a 180p/144p ladder');
  for (const [, attrs] of variants) {
    t.match(attrs, /BANDWIDTH=\d+/);
    t.match(attrs, /AVERAGE-BANDWIDTH=\d+/);
    t.match(attrs, /CODECS="avc1\.(42|4d|64)[0-9a-f]{4},mp4a\.40\.2"/);
    t.match(attrs, /FRAME-RATE=30\.000/);
  }
  t.match(variants[0]![1], /RESOLUTION=320x180/);
  t.match(variants[1]![1], /RESOLUTION=256x144/);

  const live = await srv.api('GET', `/v1/streams/${s.id}`);
  t.equal(live.json.state, 'live');
  t.ok(live.json.startedAt, 'startedAt set');
  t.match(live.json.live.publisher, { protocol: 'rtmp', form: 'packets', tracks: [{ kind: 'video', codec: 'h264' }, { kind: 'audio', codec: 'aac' }] }, 'the publisher declares FLV packets and its tracks');
  // ffmpeg sends 30 fps with a keyframe every 30 frames.
  await expectIngestMeasured(t, srv, s.id, 'RTMP', { minFps: 20, maxFps: 40, maxKeyframeSeconds: 1.5 });

  // Let a few segments accumulate, then check both media playlists tag by tag.
  await new Promise((r) => setTimeout(r, Math.max(0, 4500 - (Date.now() - ready))));
  const lists: Record<string, string> = {};
  for (const name of ['180p', '144p']) {
    const r = await getText(`${srv.base}/hls/${s.id}/${name}/index.m3u8`);
    t.equal(r.status, 200);
    t.match(r.headers.get('cache-control'), /max-age=1/);
    lists[name] = r.text;
  }
  const a = lists['180p']!;
  const b = lists['144p']!;
  // The part target follows hls.partSeconds on the 30 fps frame grid (0.2 = 6 frames by default).
  const { hls } = srv.app.config;
  const partFrames = partGrid(hls, 30).partFrames;
  const partTarget = announcedPartTarget(partFrames / 30);
  t.ok(Math.abs(partTarget * 30 - partFrames) < 0.05, `PART-TARGET ${partTarget} is ${partFrames} whole frames at 30 fps`);
  t.ok(partTarget <= hls.partSeconds + 1 / 60, 'and the frame count nearest hls.partSeconds');
  const partHoldBack = Number((partTarget * hls.partHoldBackParts).toFixed(3));
  for (const pl of [a, b]) {
    t.equal(tag(pl, 'EXT-X-TARGETDURATION'), '2');
    t.equal(tag(pl, 'EXT-X-PART-INF'), `PART-TARGET=${partTarget}`);
    t.equal(tag(pl, 'EXT-X-SERVER-CONTROL'), `CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${partHoldBack},HOLD-BACK=6,CAN-SKIP-UNTIL=12`);
    t.match(pl, /#EXT-X-MAP:URI="init1\.mp4"/);
    t.match(pl, /#EXT-X-PROGRAM-DATE-TIME:\d{4}-\d\d-\d\dT/);
    t.match(pl, /#EXT-X-PART:DURATION=[\d.]+,URI="p0\.0\.m4s",INDEPENDENT=YES|#EXT-X-PART:DURATION=[\d.]+,URI="p\d+\.0\.m4s",INDEPENDENT=YES/);
    t.match(pl, /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p\d+\.\d+\.m4s"/);
    t.match(pl, /#EXT-X-RENDITION-REPORT:URI="\.\.\/1[84][04]p\/index\.m3u8",LAST-MSN=\d+,LAST-PART=\d+/);
    for (const m of pl.matchAll(/#EXT-X-PART:DURATION=([\d.]+)/g)) t.ok(Number(m[1]) <= partTarget, `part ${m[1]} <= PART-TARGET`);
    // Parts on the frame grid (partFrames frames at 30 fps): within a complete segment, none under
    // half the target except its last, where the next segment's keyframe cut it short.
    for (const seg of pl.matchAll(/((?:#EXT-X-PART:.*\n)+)#EXTINF:[\d.]+,\ns(\d+)\.m4s/g)) {
      const durations = [...seg[1]!.matchAll(/DURATION=([\d.]+)/g)].map((m) => Number(m[1]));
      durations.slice(0, -1).forEach((d, i) => t.ok(d >= partTarget / 2, `segment ${seg[2]} part ${i} (${d}) is not a runt`));
    }
  }
  // Aligned ladder: the same segment number starts at the same wall-clock time in every rendition.
  const pdt = (pl: string) => new Map([...pl.matchAll(/#EXT-X-PROGRAM-DATE-TIME:(.*)\n(?:#EXT-X-PART.*\n)*#EXTINF:([\d.]+),\ns(\d+)\.m4s/g)].map((m) => [m[3], m[2]]));
  const durA = pdt(a);
  t.ok(durA.size >= 1, 'complete segments listed');

  // Fetch init + the first complete segment of each rendition and decode them with ffprobe.
  const dir = mkdtempSync(join(tmpdir(), 'showcase-seg-'));
  const starts: number[] = [];
  for (const [name, w, h] of [['180p', 320, 180], ['144p', 256, 144]] as const) {
    const pl = lists[name]!;
    const seg = /\n(s(\d+)\.m4s)\n/.exec(pl)!;
    const init = await getBytes(`${srv.base}/hls/${s.id}/${name}/init1.mp4`);
    t.equal(init.status, 200);
    t.match(init.headers.get('cache-control'), /immutable/);
    const body = await getBytes(`${srv.base}/hls/${s.id}/${name}/${seg[1]}`);
    t.equal(body.status, 200);
    const file = join(dir, `${name}.mp4`);
    writeFileSync(file, Buffer.concat([init.body, body.body]));
    const probe = await ffprobe(file);
    const v = probe.streams.find((x) => x.codec_type === 'video')!;
    const au = probe.streams.find((x) => x.codec_type === 'audio')!;
    t.equal(v.codec_name, 'h264');
    t.equal(v.width, w);
    t.equal(v.height, h);
    t.equal(au.codec_name, 'aac');
    const duration = Number(probe.format.duration);
    t.ok(duration > 1.5 && duration < 2.6, `${name} segment ${seg[2]} lasts about 2 s (${duration})`);
    starts.push(Number(v.start_time));
    // Range requests on segments (CDNs and players resume).
    const ranged = await getBytes(`${srv.base}/hls/${s.id}/${name}/${seg[1]}`, { range: 'bytes=0-99' });
    t.equal(ranged.status, 206);
    t.equal(ranged.body.length, 100);
    t.ok(ranged.body.equals(body.body.subarray(0, 100)));
  }
  t.equal(starts[0], starts[1], 'segments of both renditions start at the same presentation time');

  // Blocking reload: ask for the next part; the answer must arrive once it exists, and list it.
  const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p(\d+)\.(\d+)\.m4s"/.exec(a)!;
  const t0 = Date.now();
  const blocked = await getText(`${srv.base}/hls/${s.id}/180p/index.m3u8?_HLS_msn=${hint[1]}&_HLS_part=${hint[2]}`);
  t.equal(blocked.status, 200);
  t.ok(Date.now() - t0 < 3000, 'answered within a part or so');
  const hintedPart = await getBytes(`${srv.base}/hls/${s.id}/180p/p${hint[1]}.${hint[2]}.m4s`);
  t.ok(hintedPart.status === 200 || hintedPart.status === 404, 'hinted part answered');
  t.match(blocked.text, new RegExp(`URI="p${hint[1]}\\.${hint[2]}\\.m4s"|\\ns${hint[1]}\\.m4s|URI="p${Number(hint[1]) + 1}\\.0\\.m4s"`));
  // Delta update.
  const delta = await getText(`${srv.base}/hls/${s.id}/180p/index.m3u8?_HLS_skip=YES`);
  t.equal(delta.status, 200);
  // Bad directives.
  t.equal((await getText(`${srv.base}/hls/${s.id}/180p/index.m3u8?_HLS_part=1`)).status, 400);
  t.equal((await getText(`${srv.base}/hls/${s.id}/180p/index.m3u8?_HLS_msn=99999`)).status, 400);
  t.equal((await getText(`${srv.base}/hls/${s.id}/180p/p99999.0.m4s`)).status, 404);

  // The publisher stops (ffmpeg sends FCUnpublish/deleteStream): ENDLIST and state 'ended'.
  t.equal(await pub.done, 0, 'ffmpeg published without error');
  const ended = await waitFor(async () => {
    const r = await getText(`${srv.base}/hls/${s.id}/180p/index.m3u8`);
    return r.text.includes('#EXT-X-ENDLIST') ? r.text : undefined;
  }, 'ENDLIST', 10000);
  t.notMatch(ended, /PRELOAD-HINT/);
  t.equal((await getText(`${srv.base}/hls/${s.id}/144p/index.m3u8`)).text.includes('#EXT-X-ENDLIST'), true);
  const fin = await waitFor(async () => {
    const r = await srv.api('GET', `/v1/streams/${s.id}`);
    return r.json.state === 'ended' ? r.json : undefined;
  }, 'state ended');
  t.ok(fin.endedAt);
});

t.test('bad keys are refused at publish time with a clear log line', async (t) => {
  const pub = publishRtmp(`${srv.rtmp}/sk_not-a-real-key`, 2);
  const code = await pub.done;
  t.not(code, 0, 'ffmpeg fails to publish');
  const line = srv.logs.find((l) => l.code === 'SHOWCASE_ERR_RTMP_BAD_KEY');
  t.ok(line, 'refusal logged with its code');
  t.notMatch(JSON.stringify(srv.logs.lines), /sk_not-a-real-key/, 'the full key is never logged');
});

t.test('HTTP edges: traversal, unknown ids, bad input are 4xx', async (t) => {
  for (const path of ['/hls/../../etc/passwd', '/hls/%2e%2e/%2e%2e/etc/passwd', '/hls/abc/..%2f..%2fetc/passwd', '/hls/nope/master.m3u8', '/hls/nope/180p/index.m3u8', '/hls/x/180p/init1.mp4', '/hls/x/180p/..%2F..%2Fpackage.json']) {
    const r = await getText(srv.base + path);
    t.ok(r.status >= 400 && r.status < 500, `${path} -> ${r.status}`);
    t.notMatch(r.text, /root:|"dependencies"/);
  }
  t.equal((await srv.api('POST', '/v1/streams', { title: 'x' }, null)).status, 401);
  t.equal((await srv.api('POST', '/v1/streams', { title: 'x' }, 'wrong')).status, 401);
  const bad = await srv.api('POST', '/v1/streams', { title: 5 });
  t.equal(bad.status, 400);
  t.equal(bad.json.error.code, 'SHOWCASE_ERR_VALIDATION');
  t.equal((await srv.api('POST', '/v1/streams', { title: 'x'.repeat(201) })).status, 400);
  t.equal((await srv.api('GET', '/v1/streams/does-not-exist')).status, 404);
  const health = await srv.api('GET', '/healthz', undefined, null);
  t.equal(health.status, 200);
});
