// Where a stream continues after the node recording it was killed (nothing saved): read from its
// recording directory alone (files and journal), as a node on the shared recordings volume does.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordedContinuation } from '../../src/recorder/recorded-continuation.js';
import type { JournalEntry } from '../../src/recorder/journal.js';

function recording(dir: string, files: Record<string, string[]>, journal: JournalEntry[]): void {
  for (const [r, names] of Object.entries(files)) {
    mkdirSync(join(dir, r), { recursive: true });
    for (const n of names) writeFileSync(join(dir, r, n), 'x');
  }
  writeFileSync(join(dir, 'journal.jsonl'), journal.map((e) => JSON.stringify(e)).join('\n') + '\n');
}

const seg = (r: string, msn: number, run: number, disc = false): JournalEntry => ({ t: 'seg', r, msn, run, dur: 2, disc, pdt: 0, bytes: 1 });
const init = (r: string, run: number, disc: boolean): JournalEntry => ({ t: 'init', r, run, disc, bytes: 1 });

t.test('a killed node\'s recording: past the highest file (a half-written one too), runs above the highest init', async (t) => {
  const dir = t.testdir();
  recording(dir, {
    '360p': ['init1.mp4', 's0.m4s', 's1.m4s', 's2.m4s', 's3.m4s'],
    // s4 was being written when the process died: no journal line, but its number is taken.
    '180p': ['init1.mp4', 's0.m4s', 's1.m4s', 's2.m4s', 's3.m4s', 's4.m4s'],
  }, [
    { t: 'start', v: 1, streamId: 'x', at: 0, renditions: ['360p', '180p'] },
    init('360p', 1, false), init('180p', 1, false),
    ...[0, 1, 2, 3].flatMap((m) => [seg('360p', m, 1), seg('180p', m, 1)]),
  ]);
  t.same(await recordedContinuation(dir), { nextMsn: 6, discontinuities: 0, lastRunId: 1 });
});

t.test('discontinuities are counted from the journal, including a run that had only begun', async (t) => {
  const dir = t.testdir();
  recording(dir, { '180p': ['init1.mp4', 'init2.mp4', 'init3.mp4', 's0.m4s', 's1.m4s', 's5.m4s', 's6.m4s', 's9.m4s'] }, [
    init('180p', 1, false), seg('180p', 0, 1), seg('180p', 1, 1),
    // A deploy: the next process continued at 5 with a discontinuity.
    init('180p', 2, true), seg('180p', 5, 2, true), seg('180p', 6, 2),
    // A transcoder restart in that process: its first segment (9) was cut short by a kill -9.
    init('180p', 3, true),
  ]);
  t.same(await recordedContinuation(dir), { nextMsn: 11, discontinuities: 2, lastRunId: 3 });
});

t.test('no recording, or one without media: nothing to continue from', async (t) => {
  const dir = t.testdir();
  t.equal(await recordedContinuation(join(dir, 'missing')), undefined);
  recording(join(dir, 'empty'), { '180p': ['init1.mp4'] }, [init('180p', 1, false)]);
  t.equal(await recordedContinuation(join(dir, 'empty')), undefined);
});
