// The watch page's live start (src/web/watch/live-join.ts): one jump from where hls.js's start-up left
// the first frame to its live sync position, only when that point is buffered with room to spare.
import t from 'tap';
import { CATCH_UP_MAX_RATE, CATCH_UP_MIN_AHEAD_S, JOIN_MIN_AHEAD_S, JOIN_MIN_GAIN_S, bufferedEndAt, catchUpRate, liveJoinPosition } from '../../src/web/watch/live-join.js';

// A start as measured on the shared box: target 0.6 s (PART-HOLD-BACK 3 × 0.2), first frame 1.2 s behind.
const start = { latency: 1.2, targetLatency: 0.6, currentTime: 22.0, syncPosition: 22.6, bufferedEnd: 23.3 };

t.test('jumps to the sync position when it is buffered with room ahead', async (t) => {
  t.equal(liveJoinPosition(start), 22.6);
});

t.test('lands JOIN_MIN_AHEAD_S before the buffered end when the sync point is nearer the end than that', async (t) => {
  const to = liveJoinPosition({ ...start, bufferedEnd: 22.9 });
  t.equal(to, 22.9 - JOIN_MIN_AHEAD_S);
  t.ok(to! < 22.6, 'short of the sync point: never into unbuffered media');
});

t.test('stays where it is when the jump would gain too little', async (t) => {
  t.equal(liveJoinPosition({ ...start, latency: 0.6 + JOIN_MIN_GAIN_S - 0.01 }), null, 'already near the target');
  t.equal(liveJoinPosition({ ...start, bufferedEnd: 22.0 + JOIN_MIN_AHEAD_S + JOIN_MIN_GAIN_S - 0.01 }), null, 'too little buffered past the playhead');
  t.equal(liveJoinPosition({ ...start, latency: 0.5 }), null, 'ahead of the target: never backwards');
});

t.test('stays when a figure is missing (hls.js before its first playlist)', async (t) => {
  t.equal(liveJoinPosition({ ...start, syncPosition: NaN }), null);
  t.equal(liveJoinPosition({ ...start, targetLatency: NaN }), null);
});

t.test('bufferedEndAt: the range holding the playhead', async (t) => {
  const ranges = (list: Array<[number, number]>): TimeRanges => ({ length: list.length, start: (i: number) => list[i]![0], end: (i: number) => list[i]![1] });
  t.equal(bufferedEndAt(ranges([[10, 12], [20, 23.1]]), 22), 23.1);
  t.equal(bufferedEndAt(ranges([[21.95, 23]]), 21.9), 23, 'a range starting just after the playhead counts');
  t.equal(bufferedEndAt(ranges([[10, 12]]), 22), 22, 'none: the playhead itself');
});

t.test('catchUpRate: hls.js curve, down to a small buffer instead of 1 s', async (t) => {
  const behind = { latency: 1.2, targetLatency: 0.6, ahead: 0.8, targetDuration: 2 };
  t.equal(catchUpRate(behind), 1.2, '0.6 s behind: 2 / (1 + e^-0.45) in steps of 0.05');
  t.ok(behind.ahead < 1, 'with less than the 1 s hls.js itself would ask for');
  t.equal(catchUpRate({ ...behind, latency: 2.5 }), CATCH_UP_MAX_RATE, 'far behind: capped');
  t.equal(catchUpRate({ ...behind, latency: 0.64 }), 1, 'at the target: normal speed');
  t.equal(catchUpRate({ ...behind, ahead: CATCH_UP_MIN_AHEAD_S }), 1, 'too little buffered: never races into a stall');
  t.equal(catchUpRate({ ...behind, latency: 0.6 + 0.6 + 2 + 0.1 }), 1, 'beyond target + TARGETDURATION: DVR viewing, left alone');
  t.equal(catchUpRate({ ...behind, latency: NaN }), 1);
});
