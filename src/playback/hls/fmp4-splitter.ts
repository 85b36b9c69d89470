import { readBoxHeader } from './fmp4.js';

/** What the splitter hands out: the init segment once, then each moof+mdat fragment whole. */
export type Fmp4Chunk = { type: 'init'; data: Buffer } | { type: 'fragment'; data: Buffer };

/**
 * Cuts a fragmented-MP4 byte stream (ffmpeg's output, arriving in arbitrary slices) into the init
 * segment (everything before the first moof) and whole fragments (moof + mdat, with any styp/prft
 * before them). Memory is bounded: one box may not exceed maxBoxBytes.
 */
export class Fmp4Splitter {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #initDone = false;
  #current: Buffer[] = [];
  readonly #maxBoxBytes: number;

  constructor(opts: { maxBoxBytes?: number } = {}) {
    this.#maxBoxBytes = opts.maxBoxBytes ?? 32 * 1024 * 1024;
  }

  /** Feeds bytes; returns the chunks completed by them. Throws on a malformed or oversized box. */
  push(data: Buffer): Fmp4Chunk[] {
    this.#pending.push(data);
    this.#pendingBytes += data.length;
    const out: Fmp4Chunk[] = [];
    for (;;) {
      // Join only what a box header needs, then wait until the whole box has arrived: one copy per box.
      if (this.#pending.length > 1 && this.#pending[0]!.length < 16) this.#join();
      let head = this.#pending[0];
      if (!head || head.length < 8) break;
      const h = readBoxHeader(head, 0);
      if (!h) break;
      if (h.size > this.#maxBoxBytes) throw new Error(`fMP4 box ${h.type} of ${h.size} bytes exceeds the limit`);
      if (this.#pendingBytes < h.size) break;
      if (head.length < h.size) {
        this.#join();
        head = this.#pending[0]!;
      }
      const box = head.subarray(0, h.size);
      const rest = head.subarray(h.size);
      if (rest.length) this.#pending[0] = rest;
      else this.#pending.shift();
      this.#pendingBytes -= h.size;
      if (h.type === 'moof' && !this.#initDone) {
        out.push({ type: 'init', data: Buffer.concat(this.#current) });
        this.#current = [];
        this.#initDone = true;
      }
      this.#current.push(box);
      if (h.type === 'mdat' && this.#initDone) {
        out.push({ type: 'fragment', data: this.#current.length === 1 ? box : Buffer.concat(this.#current) });
        this.#current = [];
      }
    }
    return out;
  }

  #join(): void {
    this.#pending = [Buffer.concat(this.#pending, this.#pendingBytes)];
  }
}
