import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { HlsContinuation } from '../playback/hls/hls-continuation.js';
import { JOURNAL_FILE, readJournal, type JournalEntry } from './journal.js';

const SEGMENT = /^s(\d{1,12})\.m4s$/;
const INIT = /^init(\d{1,9})\.mp4$/;

/** What one rendition directory of a recording holds: the highest segment file and init run. */
interface RenditionFiles {
  maxMsn: number;
  maxRun: number;
}

async function renditionFiles(dir: string): Promise<RenditionFiles> {
  const out: RenditionFiles = { maxMsn: -1, maxRun: 0 };
  for (const name of await readdir(dir)) {
    const s = SEGMENT.exec(name);
    if (s) out.maxMsn = Math.max(out.maxMsn, Number(s[1]));
    const i = INIT.exec(name);
    if (i) out.maxRun = Math.max(out.maxRun, Number(i[1]));
  }
  return out;
}

/**
 * The discontinuities before the next segment in one rendition: the journaled segments that carry
 * one, plus the segment a process was writing when it died if it opened a new run (its init entry
 * says discontinuity and no journaled segment of that run exists yet).
 */
function discontinuities(entries: JournalEntry[], rendition: string, maxFileMsn: number): number {
  let n = 0;
  let lastSegMsn = -1;
  const runsWithSegments = new Set<number>();
  let lastInit: { run: number; disc: boolean } | undefined;
  for (const e of entries) {
    if (e.t === 'seg' && e.r === rendition) {
      if (e.disc) n++;
      lastSegMsn = Math.max(lastSegMsn, e.msn);
      runsWithSegments.add(e.run);
    } else if (e.t === 'init' && e.r === rendition) {
      lastInit = { run: e.run, disc: e.disc };
    }
  }
  if (lastInit?.disc && !runsWithSegments.has(lastInit.run) && maxFileMsn > lastSegMsn) n++;
  return n;
}

/**
 * Where a stream's HLS numbering continues, derived from its recording directory alone: what a
 * node continuing a stream after the node that served it was killed (nothing saved) reads from the
 * shared recordings volume. The next segment comes two after the highest s<msn>.m4s of any rendition
 * (including one a dead process left half-written, so no file is ever reused; the one between is the
 * live edge whose parts the dead node had advertised), runs are numbered
 * above the highest init<run>.mp4, and the discontinuities are counted from the journal. Undefined
 * when the directory holds no media (nothing recorded, or no such directory).
 */
export async function recordedContinuation(dir: string): Promise<HlsContinuation | undefined> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return undefined;
  }
  const files = new Map<string, RenditionFiles>();
  for (const name of names) files.set(name, await renditionFiles(join(dir, name)).catch(() => ({ maxMsn: -1, maxRun: 0 })));
  let maxMsn = -1;
  let lastRunId = 0;
  for (const f of files.values()) {
    maxMsn = Math.max(maxMsn, f.maxMsn);
    lastRunId = Math.max(lastRunId, f.maxRun);
  }
  if (maxMsn < 0) return undefined;
  const entries = await readJournal(join(dir, JOURNAL_FILE)).catch(() => [] as JournalEntry[]);
  let disc = 0;
  for (const e of entries) {
    if (e.t === 'init') lastRunId = Math.max(lastRunId, e.run);
    if (e.t === 'seg') maxMsn = Math.max(maxMsn, e.msn);
  }
  for (const [name, f] of files) disc = Math.max(disc, discontinuities(entries, name, f.maxMsn));
  // One segment of margin: the dead node's playlists already advertised parts of the segment after
  // the last one it recorded (its live edge), and CDNs keep those URIs as immutable. Numbering the
  // new run past that segment means no part URI a player or a cache saw is ever reused.
  return { nextMsn: maxMsn + 2, discontinuities: disc, lastRunId };
}
