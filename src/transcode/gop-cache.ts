import type { MediaPacket } from '../core/media.js';

/**
 * The packets since the latest video keyframe, bounded in bytes: an ffmpeg that restarts mid-stream
 * is fed them first, so it starts from a keyframe at once instead of waiting for the publisher's next.
 */
export class GopCache {
  #packets: MediaPacket[] = [];
  #bytes = 0;
  readonly #maxBytes: number;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Keeps a packet (a keyframe starts a new GOP; a GOP past the cap stops growing). */
  push(p: MediaPacket): void {
    if (p.sequenceHeader) return;
    if (p.kind === 'video' && p.keyframe) this.clear();
    if (this.#packets.length === 0 && !(p.kind === 'video' && p.keyframe)) return;
    if (this.#bytes + p.payload.length > this.#maxBytes) return;
    this.#packets.push(p);
    this.#bytes += p.payload.length;
  }

  /** The cached packets, keyframe first (empty until a keyframe was seen). */
  get packets(): readonly MediaPacket[] {
    return this.#packets;
  }

  /** Forgets everything (a new publisher). */
  clear(): void {
    this.#packets = [];
    this.#bytes = 0;
  }
}
