// The media seam's contract (pure logic, fake readers): publishers are offered only to readers of
// their form, packets reach packet readers only, drops are counted per reader, a throwing reader
// does not stop the others, renditions are announced once (late readers too), and the ingest meter
// counts packets into bitrate, frame rate and keyframe spacing.
import t from 'tap';
import { LiveStream, type MediaForm, type PublisherHandle, type PublisherMedia, type StreamReader } from '../../src/core/live-stream.js';
import type { MediaPacket } from '../../src/core/media.js';
import { IngestMeter } from '../../src/metrics/ingest-meter.js';

interface Recorded { events: string[]; packets: number }

function reader(name: string, consumes: MediaForm[], o: { drop?: boolean; throws?: boolean } = {}): StreamReader & Recorded {
  const r: StreamReader & Recorded = {
    name, consumes, events: [], packets: 0,
    onPublisherStart: (_s, media) => { r.events.push(`start:${media.form}`); if (o.throws) throw new Error('boom'); },
    onPacket: () => { r.packets++; return !o.drop; },
    onPublisherStop: (_reason, graceful) => { r.events.push(`stop:${graceful}`); },
    onStreamEnd: () => { r.events.push('end'); },
    onRenditions: () => { r.events.push('renditions'); },
  };
  return r;
}

function publisher(media: PublisherMedia): PublisherHandle {
  return { id: `p${Math.random()}`, protocol: media.form === 'rtp' ? 'webrtc' : 'rtmp', remoteAddress: '127.0.0.1', media, isAlive: () => true, close: () => {} };
}

const avcConfig = Buffer.from([0x17, 0x00, 0, 0, 0, 1, 2, 3]);
const aacConfig = Buffer.from([0xaf, 0x00, 0x12, 0x10]);
const packet = (kind: 'video' | 'audio', timestamp: number, o: { keyframe?: boolean; sequenceHeader?: boolean; size?: number } = {}): MediaPacket => ({
  kind, timestamp, keyframe: o.keyframe ?? false, sequenceHeader: o.sequenceHeader ?? false,
  payload: o.sequenceHeader ? (kind === 'video' ? avcConfig : aacConfig) : Buffer.alloc(o.size ?? 1000, kind === 'video' ? (o.keyframe ? 0x17 : 0x27) : 0xaf),
});

t.test('a publisher is offered to the readers of its form only; packets reach packet readers only', async (t) => {
  const s = new LiveStream('s1', 'idle');
  const both = reader('both', ['packets', 'rtp']);
  const rtpOnly = reader('rtp-only', ['rtp']);
  const pktOnly = reader('packets-only', ['packets']);
  for (const r of [both, rtpOnly, pktOnly]) s.addReader(r);
  const p = publisher({ form: 'packets', tracks: [] });
  s.attachPublisher(p);
  t.equal(s.state, 'live');
  s.pushPacket(packet('video', 0, { sequenceHeader: true }));
  s.pushPacket(packet('audio', 0, { sequenceHeader: true }));
  s.pushPacket(packet('video', 0, { keyframe: true }));
  t.same(s.media?.tracks, [{ kind: 'video', codec: 'h264' }, { kind: 'audio', codec: 'aac' }], 'tracks declared from the sequence headers');
  t.same(both.events, ['start:packets']);
  t.same(rtpOnly.events, [], 'an RTP reader is not offered a packet publisher');
  t.equal(both.packets, 3);
  t.equal(pktOnly.packets, 3);
  t.equal(rtpOnly.packets, 0);
  s.detachPublisher(p, 'dropped', false, 60_000);
  t.same(both.events, ['start:packets', 'stop:false'], 'a reconnect may follow');
  t.same(rtpOnly.events, [], 'a reader never started hears no stop');
  const q = publisher({ form: 'rtp', tracks: [{ kind: 'video', codec: 'vp8' }], rtp: { producers: [], sdp: 'v=0', height: 360, requestKeyFrame: () => {} } });
  s.attachPublisher(q);
  t.same(rtpOnly.events, ['start:rtp'], 'the RTP reader is offered the RTP publisher');
  t.same(pktOnly.events, ['start:packets', 'stop:false'], 'the packet reader is not offered the RTP publisher');
  t.equal(s.mediaInfo.height, 360, 'the declared height reaches the stream');
  s.pushPacket(packet('video', 40));
  t.equal(both.packets, 3, 'pushPacket without a packet publisher reaches nobody');
  const late = reader('late', ['rtp']);
  s.addReader(late);
  t.same(late.events, ['start:rtp'], 'a reader attached mid-stream starts at once');
  s.end('over');
  t.same(both.events.slice(-1), ['end']);
  t.same(pktOnly.events, ['start:packets', 'stop:false', 'end'], 'every reader hears the end, started or not');
  t.equal(s.state, 'ended');
});

t.test('a slow reader drops and is counted; a throwing reader does not stop the others', async (t) => {
  const s = new LiveStream('s2', 'idle');
  const errors: string[] = [];
  s.onListenerError = (event) => errors.push(event);
  const slow = reader('slow', ['packets'], { drop: true });
  const bad = reader('bad', ['packets'], { throws: true });
  const good = reader('good', ['packets']);
  for (const r of [bad, slow, good]) s.addReader(r);
  s.attachPublisher(publisher({ form: 'packets', tracks: [] }));
  t.same(errors, ['reader:bad'], 'the throw is reported');
  t.same(good.events, ['start:packets'], 'and the next reader still started');
  for (let i = 0; i < 5; i++) s.pushPacket(packet('video', i * 33, { keyframe: i === 0 }));
  t.same(s.readerDrops(), { bad: 0, slow: 5, good: 0 });
  t.equal(good.packets, 5);
});

t.test('renditions are announced once, and to readers that attach later', async (t) => {
  const s = new LiveStream('s3', 'idle');
  const early = reader('early', []);
  s.addReader(early);
  s.announceRenditions();
  s.announceRenditions();
  t.same(early.events, ['renditions']);
  const later = reader('later', []);
  s.addReader(later);
  t.same(later.events, ['renditions']);
});

t.test('the ingest meter counts packets: bitrate, frame rate, keyframe spacing', async (t) => {
  const s = new LiveStream('s4', 'idle');
  const meter = new IngestMeter();
  s.addReader(meter);
  s.attachPublisher(publisher({ form: 'packets', tracks: [] }));
  s.pushPacket(packet('video', 0, { sequenceHeader: true }));
  for (let i = 0; i < 90; i++) s.pushPacket(packet('video', i * 33, { keyframe: i % 60 === 0, size: 1000 }));
  t.equal(meter.videoFrames, 90, 'sequence headers are not frames');
  t.equal(meter.keyframes, 2);
  t.equal(meter.rates().keyframeIntervalSeconds, 1.98, 'keyframe spacing in media time');
  t.equal(meter.bytes, 90_000 + avcConfig.length);
});
