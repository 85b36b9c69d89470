import { open, readFile, type FileHandle } from 'node:fs/promises';

/** The journal's first line: what this recording keeps. */
export interface JournalStart {
  t: 'start';
  /** Format version. */
  v: 1;
  streamId: string;
  /** Wall clock ms. */
  at: number;
  /** Kept renditions, highest first; the MP4 comes from the first. */
  renditions: string[];
}

/** An init segment was written (a transcoder run began). */
export interface JournalInit {
  t: 'init';
  r: string;
  run: number;
  /** The run follows earlier media: EXT-X-DISCONTINUITY. */
  disc: boolean;
  bytes: number;
}

/** A complete segment was written and synced: it is part of the recording. */
export interface JournalSegment {
  t: 'seg';
  r: string;
  msn: number;
  run: number;
  /** Seconds. */
  dur: number;
  disc: boolean;
  /** EXT-X-PROGRAM-DATE-TIME, ms since epoch. */
  pdt: number;
  bytes: number;
}

/** The recording stopped before the stream ended (disk floor, write error); what came before stays. */
export interface JournalStop {
  t: 'stop';
  code: string;
  reason: string;
  at: number;
}

/** The stream ended and every kept rendition was flushed. */
export interface JournalEnd {
  t: 'end';
  at: number;
}

/** One line of a recording's journal. */
export type JournalEntry = JournalStart | JournalInit | JournalSegment | JournalStop | JournalEnd;

/** The journal's file name inside a recording directory. */
export const JOURNAL_FILE = 'journal.jsonl';

/**
 * An append-only JSON-lines file, each line fsync'd before append() resolves: after a crash the
 * journal lists exactly the segments whose bytes are on disk (a segment is synced before its line).
 */
export class JournalWriter {
  #fh?: FileHandle;
  #chain: Promise<void> = Promise.resolve();
  bytesWritten = 0;

  private constructor(fh: FileHandle) {
    this.#fh = fh;
  }

  /** Opens (creating or appending to) a journal file. */
  static async open(file: string): Promise<JournalWriter> {
    return new JournalWriter(await open(file, 'a', 0o644));
  }

  /** Appends one entry and syncs it; entries are written in call order. */
  append(entry: JournalEntry): Promise<void> {
    const line = Buffer.from(`${JSON.stringify(entry)}\n`);
    const next = this.#chain.then(async () => {
      const fh = this.#fh;
      if (!fh) throw new Error('journal closed');
      await fh.write(line);
      await fh.datasync();
      this.bytesWritten += line.length;
    });
    // One failed append must not wedge the ones after it: the caller sees its own error.
    this.#chain = next.catch(() => {});
    return next;
  }

  /** Waits for pending appends and closes the file; idempotent. */
  async close(): Promise<void> {
    await this.#chain;
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close();
  }
}

/**
 * Reads a journal, tolerating a torn last line (a crash mid-write on a power loss) and lines it
 * does not understand; returns the entries in order.
 */
export async function readJournal(file: string): Promise<JournalEntry[]> {
  const text = await readFile(file, 'utf8');
  const out: JournalEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    if (isEntry(v)) out.push(v);
  }
  return out;
}

function isEntry(v: unknown): v is JournalEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  switch (e.t) {
    case 'start': return typeof e.streamId === 'string' && Array.isArray(e.renditions);
    case 'init': return typeof e.r === 'string' && Number.isInteger(e.run);
    case 'seg': return typeof e.r === 'string' && Number.isInteger(e.msn) && Number.isInteger(e.run) && typeof e.dur === 'number' && Number.isInteger(e.bytes);
    case 'stop': return typeof e.code === 'string';
    case 'end': return true;
    default: return false;
  }
}
