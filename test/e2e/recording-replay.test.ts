import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, waitFor, getText, getBytes, ADMIN } from '../helpers/server.js';
import { publishRtmp, ffprobe, decodeFrames } from '../helpers/ffmpeg.js';
import { readJournal, type JournalSegment } from '../../src/recorder/journal.js';
import { LinkSigner, loadLinkSecret } from '../../src/recorder/signed-links.js';

const PUBLISH_SECONDS = 10;

t.test('a live stream is recorded; its creator downloads the MP4 through a signed link; the replay is VOD HLS on the live URL', async (t) => {
  // A short in-memory window, so the ended stream's early segments have left memory when the replay asks for them.
  const srv = await startServer({ hls: { windowSegments: 3, retainExtraSegments: 1, endedRetainSeconds: 300 }, recording: { minFreeBytes: 0 } });
  const svc = srv.app.recordings!;
  t.teardown(() => srv.close());
  const api = async (path: string, token: string | null = ADMIN, headers: Record<string, string> = {}) => {
    const res = await fetch(srv.base + path, { headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    return { status: res.status, json: await res.json().catch(() => undefined), headers: res.headers };
  };
  const alice = await srv.api('POST', '/v1/creators', { handle: 'alice', displayName: 'Alice' });
  const bob = await srv.api('POST', '/v1/creators', { handle: 'bob', displayName: 'Bob' });
  const created = await srv.api('POST', '/v1/streams', { title: 'Friday drop' }, alice.json.token);
  const { id, streamKey } = created.json;

  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, PUBLISH_SECONDS);
  t.teardown(() => pub.kill('SIGKILL'));
  const live = await waitFor(async () => {
    const r = await api(`/v1/streams/${id}/recording`, alice.json.token);
    return r.json?.state === 'recording' ? r.json : undefined;
  }, 'recording while live');
  t.same(live.renditions, ['180p', '144p'], 'every rendition is kept by default');
  t.equal(live.mp4Rendition, '180p', 'the MP4 comes from the top rendition');
  t.equal(live.sourcePassthrough, false);
  t.equal(live.download, null, 'no link before the recording is ready');
  t.equal(await pub.done, 0);

  const ready = await waitFor(async () => {
    const r = await api(`/v1/streams/${id}/recording`, alice.json.token);
    return r.json?.state === 'ready' || r.json?.state === 'failed' ? r.json : undefined;
  }, 'recording ready', 30000, 200);
  t.equal(ready.state, 'ready', JSON.stringify(ready));
  t.ok(Math.abs(ready.durationSeconds - PUBLISH_SECONDS) < 1.2, `recorded ${ready.durationSeconds} s of a ${PUBLISH_SECONDS} s publish`);
  t.equal(ready.discontinuities, 0);
  t.match(ready.download.url, new RegExp(`^${srv.base}/v1/streams/${id}/recording/download\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));
  t.ok(Date.parse(ready.download.expiresAt) - Date.now() > 3500_000, 'the link lives about an hour by default');
  t.equal(ready.replay.hls, `${srv.base}/hls/${id}/master.m3u8`);

  // Who may see it: the owner and the operator; another creator gets a 404, nobody a 401.
  t.equal((await api(`/v1/streams/${id}/recording`, ADMIN)).status, 200, 'operator');
  t.equal((await api(`/v1/streams/${id}/recording`, bob.json.token)).status, 404, 'another creator');
  t.equal((await api(`/v1/streams/${id}/recording`, null)).status, 401, 'no token');
  t.equal((await api('/v1/streams/nosuchstream/recording')).status, 404);

  // One recording directory: per-segment files, init per run, the journal, the MP4 and playlists.
  const dir = join(svc.root, id);
  t.same(readdirSync(dir).sort(), ['144p', '180p', 'journal.jsonl', 'master.m3u8', 'recording.mp4']);
  const journal = (await readJournal(join(dir, 'journal.jsonl'))).filter((e): e is JournalSegment => e.t === 'seg' && e.r === '180p');
  const journaled = journal.reduce((a, s) => a + s.dur, 0);

  // The download: attachment, full body, then resumable ranges.
  const dl = await getBytes(ready.download.url);
  t.equal(dl.status, 200);
  t.match(dl.headers.get('content-disposition'), /^attachment; filename="recording-[A-Za-z0-9_-]+\.mp4"$/);
  t.equal(dl.headers.get('content-type'), 'video/mp4');
  t.equal(dl.body.length, ready.sizeBytes);
  const tmp = mkdtempSync(join(tmpdir(), 'recording-dl-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const file = join(tmp, 'dl.mp4');
  writeFileSync(file, dl.body);
  const probe = await ffprobe(file);
  t.same(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264'], 'both tracks, remuxed');
  t.equal(probe.streams.find((s) => s.codec_type === 'video')?.height, 180, 'the top rendition');
  const duration = Number(probe.format.duration);
  t.ok(Math.abs(duration - PUBLISH_SECONDS) < 1.2, `the MP4 lasts ${duration} s for a ${PUBLISH_SECONDS} s publish`);
  t.ok(duration >= journaled - 0.1, `and at least the journaled ${journaled.toFixed(3)} s`);
  t.ok((await decodeFrames(file)) >= (PUBLISH_SECONDS - 1) * 30, 'every frame decodes');
  t.ok(dl.body.indexOf('moov') < dl.body.indexOf('mdat'), '+faststart: the index before the media');

  const ranged = await getBytes(ready.download.url, { range: 'bytes=100-199' });
  t.equal(ranged.status, 206);
  t.equal(ranged.headers.get('content-range'), `bytes 100-199/${dl.body.length}`);
  t.ok(ranged.body.equals(dl.body.subarray(100, 200)), 'the range is the right bytes');
  const resumed = await getBytes(ready.download.url, { range: `bytes=${dl.body.length - 1000}-`, 'if-range': dl.headers.get('etag')! });
  t.equal(resumed.status, 206, 'a resumed download with a matching If-Range');
  t.ok(resumed.body.equals(dl.body.subarray(dl.body.length - 1000)));
  t.equal((await getBytes(ready.download.url, { range: 'bytes=0-9', 'if-range': '"stale"' })).status, 200, 'a stale validator gets the whole file');
  t.equal((await getBytes(ready.download.url, { range: `bytes=${dl.body.length + 10}-` })).status, 416);

  // Forged and expired links.
  const u = new URL(ready.download.url);
  const sig = u.searchParams.get('sig')!;
  const exp = u.searchParams.get('exp')!;
  const forged = (s: string) => (s[5] === 'A' ? `${s.slice(0, 5)}B${s.slice(6)}` : `${s.slice(0, 5)}A${s.slice(6)}`);
  const other = await srv.createStream('other');
  for (const [what, url] of [
    ['a changed signature', `${srv.base}${u.pathname}?exp=${exp}&sig=${forged(sig)}`],
    ['a later expiry', `${srv.base}${u.pathname}?exp=${Number(exp) + 3600}&sig=${sig}`],
    ['another stream', `${srv.base}/v1/streams/${other.id}/recording/download?exp=${exp}&sig=${sig}`],
    ['no signature', `${srv.base}${u.pathname}`],
  ] as const) {
    const r = await getText(url);
    t.equal(r.status, 403, what);
    t.equal(JSON.parse(r.text).error.code, 'SHOWCASE_ERR_FORBIDDEN');
  }
  const past = new LinkSigner(loadLinkSecret(srv.dataDir, ''), 60, () => Date.now() - 3600_000).sign(id);
  const expired = await getText(`${srv.base}${u.pathname}?exp=${past.exp}&sig=${past.sig}`);
  t.equal(expired.status, 403, 'an expired link');
  t.match(JSON.parse(expired.text).error.message, /expired/);

  // The replay: the same URLs serve the VOD from disk, both while the live origin still holds the
  // ended stream (it keeps only the last window) and after it dropped it.
  const checkReplay = async (when: string) => {
    const master = await getText(`${srv.base}/hls/${id}/master.m3u8`);
    t.equal(master.status, 200, when);
    t.match(master.text, /RESOLUTION=320x180[^\n]*\n180p\/index\.m3u8/);
    t.match(master.text, /\n144p\/index\.m3u8/);
    const media = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`);
    t.match(media.text, /#EXT-X-PLAYLIST-TYPE:VOD/);
    t.match(media.text, /#EXT-X-MAP:URI="init1\.mp4"/);
    t.match(media.text, /#EXT-X-ENDLIST\n$/);
    t.notMatch(media.text, /#EXT-X-PART|PRELOAD-HINT/, 'no low-latency parts in a VOD playlist');
    t.equal(media.text.match(/#EXTINF/g)!.length, journal.length, `every journaled segment is listed (${when})`);
    const first = await getBytes(`${srv.base}/hls/${id}/180p/s${journal[0]!.msn}.m4s`);
    t.equal(first.status, 200, `the first segment (${when})`);
    t.ok(first.body.equals(readFileSync(join(dir, '180p', `s${journal[0]!.msn}.m4s`))), 'segments are the recorded files');
    t.equal((await getBytes(`${srv.base}/hls/${id}/180p/init1.mp4`)).status, 200);
  };
  t.ok(srv.app.origin.get(id)?.ended, 'the live origin still holds the ended stream');
  t.equal(srv.app.origin.get(id)!.timelines.get('180p')!.segment(journal[0]!.msn), undefined, 'its first segment has left memory');
  await checkReplay('while the live origin holds the ended stream');
  srv.app.origin.drop(id);
  await checkReplay('after the live origin dropped it');

  // Replay viewers are sessions too (counted as 'replay'): the VOD playlists hand out and carry one.
  const vodMaster = await getText(`${srv.base}/hls/${id}/master.m3u8`);
  const vodUri = /\n(180p\/index\.m3u8\?_sid=([A-Za-z0-9_-]+))\n/.exec(vodMaster.text);
  t.ok(vodUri, 'the replay multivariant hands out a viewer session');
  t.equal(vodMaster.headers.get('cache-control'), 'private, no-store', 'that copy is the viewer\'s alone');
  const sid = vodUri![2]!;
  t.equal(srv.app.sessions.lookup(sid)?.mode, 'replay', 'a replay session');
  const vodMedia = await getText(`${srv.base}/hls/${id}/${vodUri![1]}`);
  t.match(vodMedia.text, new RegExp(`#EXT-X-MAP:URI="init1\\.mp4\\?_sid=${sid}"`), 'the init URI carries it');
  const segUri = new RegExp(`\\n(s\\d+\\.m4s\\?_sid=${sid})\\n`).exec(vodMedia.text)?.[1];
  t.ok(segUri, 'and every segment URI');
  const seen = srv.app.sessions.lookup(sid)!.lastSeenMs;
  await waitFor(() => Date.now() > seen + 5, 'the clock to move');
  t.equal((await getBytes(`${srv.base}/hls/${id}/180p/${segUri}`)).status, 200);
  t.ok(srv.app.sessions.lookup(sid)!.lastSeenMs > seen, 'fetching a replay segment keeps the session active');
  t.equal((await getText(`${srv.base}/hls/${other.id}/master.m3u8`)).status, 404, 'a stream never live has no replay');
  for (const bad of [`/hls/${id}/180p/..%2F..%2Frecording-secret`, `/hls/${id}/..%2Frecording.mp4`, `/hls/${id}/180p/journal.jsonl`]) {
    t.equal((await getText(`${srv.base}${bad}`)).status, 404, `no way out of the replay files: ${bad}`);
  }
});
