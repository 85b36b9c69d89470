import t from 'tap';
import { BUCKET_KEYS, bucketOf, ViewerSessionTable } from '../../src/metrics/session-table.js';
import { SESSION_ID_LENGTH } from '../../src/metrics/session-id.js';

const ID = /^[A-Za-z0-9_-]{20}$/;

/** Changes one character of an id (keeps it well-formed). */
function mutate(id: string, at: number): string {
  const ch = id[at] === 'A' ? 'B' : 'A';
  return id.slice(0, at) + ch + id.slice(at + 1);
}

t.test('issue hands out short URL-safe ids that touch and lookup accept', async (t) => {
  const table = new ViewerSessionTable({ now: () => 0 });
  const id = table.issue('s1', 'hls', 'live', { nowMs: 0 });
  t.match(id, ID);
  t.equal(id.length, SESSION_ID_LENGTH);
  t.equal(table.touch(id, 1000), true);
  t.equal(table.touch(id, 2000, 's1'), true, 'a heartbeat names its stream');
  t.same(table.lookup(id, 2000), { streamId: 's1', protocol: 'hls', mode: 'live', open: false, lastSeenMs: 2000 });
  t.equal(table.size, 1);
  t.same(BUCKET_KEYS.map(([protocol, mode]) => bucketOf(protocol, mode)), [0, 1, 2, 3], 'bucket order');
  const ids = new Set(Array.from({ length: 2000 }, () => table.issue('s1', 'hls', 'replay', { nowMs: 0 })));
  t.equal(ids.size, 2000, 'ids are distinct');
});

t.test('forged, malformed, unknown and other-stream ids are rejected and counted', async (t) => {
  const table = new ViewerSessionTable({ now: () => 0 });
  const id = table.issue('s1', 'hls', 'live', { nowMs: 0 });
  table.issue('s2', 'hls', 'live', { nowMs: 0 });
  for (let at = 8; at < SESSION_ID_LENGTH; at++) t.equal(table.touch(mutate(id, at), 1), false, `tag char ${at} changed`);
  t.equal(table.touch(mutate(id, 4), 1), false, 'generation changed');
  t.equal(table.touch(mutate(id, 2), 1), false, 'slot changed (to one never used)');
  for (const bad of ['', 'short', `${id}x`, id.replace(/.$/, '!'), id.replace(/^./, 'é'), 42, null, undefined, {}]) {
    t.equal(table.touch(bad, 1), false, `malformed ${String(bad)}`);
  }
  t.equal(table.touch(id, 1, 's2'), false, 'valid id presented for another stream');
  t.equal(table.close(mutate(id, 10)), false, 'close needs the real id too');
  t.equal(table.lookup(mutate(id, 10)), undefined);
  const { rejected } = table.stats();
  t.equal(rejected.forged, 12 + 2, 'tag changes (12) plus close and lookup');
  t.equal(rejected.malformed, 9);
  t.equal(rejected.unknown, 3, 'generation, slot, other stream');
  t.equal(table.touch(id, 1), true, 'the genuine id still works');

  // Brute force: random well-formed ids essentially never hit.
  let hits = 0;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (let i = 0; i < 20_000; i++) {
    let guess = 'AAAAAAAA'; // slot 0 and generation 0: the attacker knows these
    for (let k = 8; k < 20; k++) guess += alphabet[Math.floor(Math.random() * 64)];
    if (table.touch(guess, 1)) hits++;
  }
  t.equal(hits, 0);
});

t.test('timed sessions expire after the timeout; a new generation kills old ids', async (t) => {
  const table = new ViewerSessionTable({ timeoutMs: 6000, now: () => 0 });
  const id = table.issue('s1', 'hls', 'live', { nowMs: 0 });
  t.equal(table.touch(id, 5999), true, 'just inside the timeout');
  t.equal(table.touch(id, 11_998), true);
  t.equal(table.lookup(id, 17_998), undefined, 'lookup sees it expired');
  t.equal(table.touch(id, 17_998), false, 'timeoutMs after the last touch it is gone');
  t.equal(table.stats().rejected.expired, 1);
  t.equal(table.size, 0, 'an expired touch reclaims the slot');
  const again = table.issue('s1', 'hls', 'live', { nowMs: 20_000 });
  t.equal(again.slice(0, 4), id.slice(0, 4), 'the slot is reused');
  t.not(again.slice(4, 8), id.slice(4, 8), 'with a new generation');
  t.equal(table.touch(id, 20_001), false, 'the old id stays dead');
  t.equal(table.touch(again, 20_001), true);

  const a = table.issue('s1', 'hls', 'live', { nowMs: 30_000 });
  const b = table.issue('s1', 'hls', 'live', { nowMs: 31_000 });
  t.equal(table.expire(36_500), 2, 'expire() reclaims from the LRU head: again (20 s) and a (30 s)');
  t.equal(table.size, 1);
  t.equal(table.touch(a, 36_500), false);
  t.equal(table.touch(b, 36_500), true);
  t.equal(table.stats().expired, 3);
});

t.test('past the cap the least recently seen session is evicted', async (t) => {
  const table = new ViewerSessionTable({ capacity: 3, now: () => 0 });
  const a = table.issue('s1', 'hls', 'live', { nowMs: 0 });
  const b = table.issue('s1', 'hls', 'live', { nowMs: 1 });
  const c = table.issue('s1', 'hls', 'live', { nowMs: 2 });
  t.ok(table.touch(a, 3), 'a is now the most recently seen');
  const d = table.issue('s1', 'hls', 'live', { nowMs: 4 });
  t.equal(table.size, 3);
  t.equal(table.stats().evicted, 1);
  t.equal(table.touch(b, 5), false, 'b (least recently seen) was evicted');
  for (const id of [a, c, d]) t.equal(table.touch(id, 5), true);

  // Open WebRTC consumers go only when no timed session is left.
  const open = new ViewerSessionTable({ capacity: 2, now: () => 0 });
  const w = open.open('s1', 'live', { nowMs: 0 });
  const h = open.issue('s1', 'hls', 'live', { nowMs: 10 });
  open.issue('s1', 'hls', 'live', { nowMs: 20 });
  t.equal(open.touch(h, 21), false, 'the timed session went first');
  t.equal(open.touch(w, 21), true, 'the older open consumer stayed');
  open.open('s1', 'live', { nowMs: 30 });
  open.open('s1', 'live', { nowMs: 40 });
  t.equal(open.touch(w, 41), false, 'then the oldest open consumer');
  t.equal(open.stats().evicted, 3);
});

t.test('open WebRTC consumers are active until closed, whatever the timeout', async (t) => {
  const table = new ViewerSessionTable({ timeoutMs: 1000, now: () => 0 });
  const w = table.open('s1', 'live', { nowMs: 0 });
  t.equal(table.expire(1_000_000), 0);
  t.same(table.lookup(w, 1_000_000)?.open, true);
  t.equal(table.touch(w, 1_000_000), true);
  t.equal(table.close(w), true);
  t.equal(table.close(w), false, 'close is once');
  t.equal(table.size, 0);
  t.equal(table.stats().closed, 1);
});

t.test('columns grow with the audience and stay compact', async (t) => {
  const table = new ViewerSessionTable({ now: () => 0 });
  const ids = Array.from({ length: 5000 }, (_, i) => table.issue(`s${i % 7}`, i % 2 ? 'webrtc' : 'hls', 'live', { nowMs: 0 }));
  t.ok(ids.every((id) => table.touch(id, 1000)), 'every id survives the growth');
  t.equal(table.stats().allocatedSlots, 8192);
  t.ok(table.columnBytes() / table.stats().allocatedSlots < 48, `${table.columnBytes() / table.stats().allocatedSlots} bytes per slot`);
});

t.test('streams: capped, released with their sessions, indices reused', async (t) => {
  const table = new ViewerSessionTable({ maxStreams: 2, now: () => 0 });
  const a = table.issue('a', 'hls', 'live', { nowMs: 0 });
  table.issue('b', 'hls', 'live', { nowMs: 0 });
  t.equal(table.issue('c', 'hls', 'live', { nowMs: 0 }), '', 'a third stream gets no id (viewing goes on untracked)');
  t.equal(table.stats().refused, 1);
  t.equal(table.streamSessionCount(table.streamIndexOf('a')), 1);
  t.equal(table.releaseStream('a'), 1, 'its session ends with it');
  t.equal(table.touch(a, 1), false);
  t.equal(table.streamIndexOf('a'), -1);
  t.not(table.issue('c', 'hls', 'live', { nowMs: 0 }), '', 'the freed index serves a new stream');
  t.equal(table.streamIndexOf('c'), 0);
  t.throws(() => new ViewerSessionTable({ capacity: 0 }), RangeError);
  t.throws(() => new ViewerSessionTable({ maxStreams: 70_000 }), RangeError);
});
