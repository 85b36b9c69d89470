import type { LinkCheck, LinkSigner } from '../../recorder/signed-links.js';

/** What the gate decides for a request on a stream's public surface. */
export type PracticeAccess = 'public' | 'preview' | 'hidden' | 'forbidden';

/** The preview link's query parameters (kept apart from a download link's exp/sig). */
const EXP = 'pexp';
const SIG = 'psig';
const EXP_RE = /^\d{1,12}$/;
const SIG_RE = /^[A-Za-z0-9_-]{43}$/;

/** Options of a PracticeGate. */
export interface PracticeGateOptions {
  /** The stream's practice flag from the store; undefined for an unknown stream. */
  lookup: (streamId: string) => Promise<boolean | undefined>;
  /** The preview signer (LinkSigner with the 'preview' purpose). */
  signer: LinkSigner;
  /** Flags cached at most (least recently used evicted). */
  cacheSize: number;
}

/**
 * Practice mode's one decision: is a stream hidden from this caller? Anonymous callers and other
 * creators see a practice stream as unknown (404); a request carrying a valid preview signature
 * (pexp/psig, issued to the owner) sees it; a tampered or expired one is 403. Flags are cached in a
 * bounded LRU (they are fixed at creation); unknown ids are not cached (a later create may use one).
 */
export class PracticeGate {
  readonly #o: PracticeGateOptions;
  readonly #flags = new Map<string, boolean>();

  constructor(o: PracticeGateOptions) {
    this.#o = o;
  }

  /** Records a stream's flag (at creation), so its first viewer needs no store round trip. */
  remember(streamId: string, practice: boolean): void {
    this.#flags.delete(streamId);
    this.#flags.set(streamId, practice);
    while (this.#flags.size > this.#o.cacheSize) this.#flags.delete(this.#flags.keys().next().value!);
  }

  /** Whether the stream is a practice one (false for an unknown stream). */
  async isPractice(streamId: string): Promise<boolean> {
    const known = this.#flags.get(streamId);
    if (known !== undefined) {
      this.remember(streamId, known);
      return known;
    }
    const flag = await this.#o.lookup(streamId);
    if (flag === undefined) return false;
    this.remember(streamId, flag);
    return flag;
  }

  /** The preview signature's check for a query: 'absent' when it carries none. */
  signature(streamId: string, query: Record<string, unknown>): LinkCheck | 'absent' {
    if (query[EXP] === undefined && query[SIG] === undefined) return 'absent';
    return this.#o.signer.verify(streamId, query[EXP], query[SIG]);
  }

  /** Decides a request: public streams are 'public'; practice ones 'preview' (valid link), 'forbidden' (bad link) or 'hidden'. */
  async access(streamId: string, query: Record<string, unknown>): Promise<PracticeAccess> {
    if (!(await this.isPractice(streamId))) return 'public';
    const sig = this.signature(streamId, query);
    if (sig === 'ok') return 'preview';
    return sig === 'absent' ? 'hidden' : 'forbidden';
  }

  /** A fresh preview signature for a stream: its query text (no leading ? or &) and expiry. */
  sign(streamId: string): { query: string; expiresAt: number } {
    const s = this.#o.signer.sign(streamId);
    return { query: `${EXP}=${s.exp}&${SIG}=${s.sig}`, expiresAt: s.expiresAt };
  }

  /**
   * The preview parameters of a request, to carry onto every URI a playlist or page hands out
   * (no leading ? or &), '' when it has none or they are malformed. Checked by access(), not here.
   */
  carry(query: Record<string, unknown>): string {
    const exp = query[EXP];
    const sig = query[SIG];
    if (typeof exp !== 'string' || typeof sig !== 'string' || !EXP_RE.test(exp) || !SIG_RE.test(sig)) return '';
    return `${EXP}=${exp}&${SIG}=${sig}`;
  }
}

/** Appends `extra` (a=b&c=d, or '') to a query string that is '' or starts with '?'. */
export function appendQuery(query: string, extra: string): string {
  if (!extra) return query;
  return query ? `${query}&${extra}` : `?${extra}`;
}
