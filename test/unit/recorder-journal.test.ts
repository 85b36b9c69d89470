import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalWriter, readJournal, type JournalEntry } from '../../src/recorder/journal.js';
import { contiguousPieces, planFromJournal, renderVodMediaPlaylist, renderVodMultivariant, withQuery } from '../../src/recorder/vod-playlists.js';

const seg = (msn: number, run: number, dur = 2, disc = false) => ({ t: 'seg' as const, r: 'hi', msn, run, dur, disc, pdt: 1_700_000_000_000 + msn * 2000, bytes: 1000 + msn });

t.test('the journal appends in order and reads back, ignoring a torn last line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'recorder-journal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'journal.jsonl');
  const j = await JournalWriter.open(file);
  await Promise.all([j.append({ t: 'start', v: 1, streamId: 's', at: 1, renditions: ['hi'] }), j.append(seg(0, 1)), j.append(seg(1, 1))]);
  await j.close();
  appendFileSync(file, '{"t":"seg","r":"hi","msn":2,"ru');
  const entries = await readJournal(file);
  t.same(entries.map((e) => (e.t === 'seg' ? e.msn : e.t)), ['start', 0, 1]);
  writeFileSync(file, 'garbage\n{"t":"unknown"}\n');
  t.same(await readJournal(file), []);
});

t.test('a plan keeps one entry per msn, in order, and splits pieces at run changes and gaps', async (t) => {
  const entries: JournalEntry[] = [
    { t: 'start', v: 1, streamId: 's', at: 5, renditions: ['hi', 'lo'] },
    seg(1, 1), seg(0, 1), seg(1, 1), seg(2, 1), seg(4, 1), seg(5, 2, 1.5, true),
    { t: 'stop', code: 'SHOWCASE_ERR_RECORDING_DISK_FULL', reason: 'full', at: 9 },
  ];
  const plan = planFromJournal(entries)!;
  t.equal(plan.renditions.length, 1, 'a rendition with no segments is left out');
  t.same(plan.renditions[0]!.segments.map((s) => s.msn), [0, 1, 2, 4, 5]);
  t.same(plan.stop, { code: 'SHOWCASE_ERR_RECORDING_DISK_FULL', reason: 'full' });
  t.equal(plan.endedCleanly, false);
  t.same(contiguousPieces(plan.renditions[0]!).map((p) => [p.run, p.segments.map((s) => s.msn)]), [[1, [0, 1, 2]], [1, [4]], [2, [5]]]);
  const pl = renderVodMediaPlaylist(plan.renditions[0]!);
  t.match(pl, /^#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n/);
  t.match(pl, /#EXT-X-MEDIA-SEQUENCE:0\n/);
  t.equal(pl.match(/#EXT-X-DISCONTINUITY\n/g)!.length, 2, 'a lost segment and a new run');
  t.match(pl, /s2\.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init1\.mp4"\n#EXT-X-PROGRAM-DATE-TIME:[^\n]+\n#EXTINF:2\.00000,\ns4\.m4s/);
  t.match(pl, /#EXT-X-MAP:URI="init2\.mp4"\n#EXT-X-PROGRAM-DATE-TIME:[^\n]+\n#EXTINF:1\.50000,\ns5\.m4s\n#EXT-X-ENDLIST\n$/);
  t.equal(planFromJournal([seg(0, 1)]), undefined, 'no start line: not a recording');
});

t.test('the multivariant describes each rendition from its init and journal; queries reach every URI', async (t) => {
  const r = { name: 'hi', segments: [seg(0, 1), seg(1, 1, 1)] };
  const master = renderVodMultivariant([{ rendition: r, init: { tracks: [
    { trackId: 1, kind: 'video', timescale: 90000, codec: 'avc1.64000d', width: 320, height: 180, defaultSampleDuration: 0, defaultSampleFlags: 0 },
    { trackId: 2, kind: 'audio', timescale: 48000, codec: 'mp4a.40.2', defaultSampleDuration: 0, defaultSampleFlags: 0 },
  ] } }]);
  t.match(master, /#EXT-X-STREAM-INF:BANDWIDTH=8008,AVERAGE-BANDWIDTH=5336,CODECS="avc1\.64000d,mp4a\.40\.2",RESOLUTION=320x180\nhi\/index\.m3u8\n/);
  const q = withQuery(renderVodMediaPlaylist(r), '?_sid=abc');
  t.match(q, /#EXT-X-MAP:URI="init1\.mp4\?_sid=abc"/);
  t.match(q, /\ns1\.m4s\?_sid=abc\n/);
  t.equal(withQuery(master, ''), master);
});
