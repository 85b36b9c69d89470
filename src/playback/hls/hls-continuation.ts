/**
 * Where a stream's LL-HLS numbering continues after a server restart (a deploy interrupted it) or
 * on another node (the one that served it died). The next process starts its timelines here, so players keep a monotonic media sequence with an
 * EXT-X-DISCONTINUITY, and the recorder's files (s<msn>.m4s, init<run>.mp4) never collide with the
 * ones the previous process wrote into the same recording.
 */
export interface HlsContinuation {
  /** The first media sequence number the next process uses: past every msn served or recorded. */
  nextMsn: number;
  /** Discontinuities before nextMsn (the EXT-X-DISCONTINUITY-SEQUENCE there). */
  discontinuities: number;
  /** The highest transcoder run id used so far: the next process's runs are numbered above it. */
  lastRunId: number;
}

const MAX = 2 ** 40;

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < MAX ? v : undefined;
}

/** A continuation read back from the store, or undefined when the value is not a well-formed one. */
export function parseContinuation(v: unknown): HlsContinuation | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const nextMsn = count(o.nextMsn);
  const discontinuities = count(o.discontinuities);
  const lastRunId = count(o.lastRunId);
  if (nextMsn === undefined || discontinuities === undefined || lastRunId === undefined) return undefined;
  return { nextMsn, discontinuities, lastRunId };
}

/** The later of two continuations, field by field (numbers only ever grow across restarts). */
export function laterContinuation(a: HlsContinuation | undefined, b: HlsContinuation | undefined): HlsContinuation | undefined {
  if (!a) return b;
  if (!b) return a;
  return { nextMsn: Math.max(a.nextMsn, b.nextMsn), discontinuities: Math.max(a.discontinuities, b.discontinuities), lastRunId: Math.max(a.lastRunId, b.lastRunId) };
}

/** The StreamRecord.extra key the continuation of an interrupted stream is kept under. */
export const CONTINUATION_KEY = 'hlsContinuation';

/** What saving and restoring continuations needs of the origin and the store (narrow on purpose). */
interface ContinuationOrigin {
  interrupt(streamId: string): HlsContinuation | undefined;
  continueFrom(streamId: string, c: HlsContinuation): void;
}
interface ContinuationStore {
  getStream(id: string): { extra: Record<string, unknown> } | undefined | Promise<{ extra: Record<string, unknown> } | undefined>;
  updateStream(id: string, patch: { extra: Record<string, unknown> }): unknown;
}

/**
 * Server shutdown: completes the interrupted streams' open segments and keeps, for each, where the
 * next process continues (the later of what it continued from and what it produced since).
 */
export async function saveContinuations(origin: ContinuationOrigin, store: ContinuationStore, streamIds: string[]): Promise<void> {
  for (const id of streamIds) {
    const rec = await store.getStream(id);
    const c = laterContinuation(parseContinuation(rec?.extra[CONTINUATION_KEY]), origin.interrupt(id));
    if (rec && c) await store.updateStream(id, { extra: { [CONTINUATION_KEY]: c } });
  }
}

/** Start-up: the origins of restored interrupted streams continue where the previous process left them. */
export function restoreContinuations(origin: ContinuationOrigin, recs: Array<{ id: string; extra: Record<string, unknown> }>): void {
  for (const rec of recs) {
    const c = parseContinuation(rec.extra[CONTINUATION_KEY]);
    if (c) origin.continueFrom(rec.id, c);
  }
}

/** Where a recording says a stream continues (RecordingService.recordedContinuation), narrow on purpose. */
interface RecordedContinuations {
  recordedContinuation(streamId: string): Promise<HlsContinuation | undefined>;
}

/**
 * The registry's prepareContinue: a stream this node continues (restored at start-up, or taken over
 * from a dead node) resumes its HLS numbering at the later of what a graceful stop saved in the
 * record and what the recordings directory holds (after a `kill -9` only the files tell: past the
 * highest segment and init there, with one more discontinuity).
 */
export function continuationPreparer(origin: () => ContinuationOrigin, recordings: () => RecordedContinuations | undefined): (rec: { id: string; extra: Record<string, unknown> }) => Promise<void> {
  return async (rec) => {
    const recorded = await recordings()?.recordedContinuation(rec.id);
    const c = laterContinuation(parseContinuation(rec.extra[CONTINUATION_KEY]), recorded);
    if (c) origin().continueFrom(rec.id, c);
  };
}
