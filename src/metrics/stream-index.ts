/**
 * Maps stream id strings to small integers, reused after release, so that each session stores
 * a 2-byte index instead of a string reference and per-stream counts live in flat arrays.
 */
export class StreamIndex {
  /** Most streams mapped at once. */
  readonly max: number;
  readonly #byId = new Map<string, number>();
  readonly #ids: (string | undefined)[] = [];
  readonly #free: number[] = [];

  constructor(max: number) {
    this.max = max;
  }

  /** Streams mapped now. */
  get size(): number {
    return this.#byId.size;
  }

  /** Upper bound (exclusive) of indices ever handed out. */
  get extent(): number {
    return this.#ids.length;
  }

  /** The index of a stream id, or -1 when it has none. */
  indexOf(streamId: string): number {
    return this.#byId.get(streamId) ?? -1;
  }

  /** The index of a stream id, mapping it when new; -1 when max streams are mapped. */
  ensure(streamId: string): number {
    let index = this.#byId.get(streamId);
    if (index !== undefined) return index;
    index = this.#free.pop();
    if (index === undefined) {
      if (this.#ids.length >= this.max) return -1;
      index = this.#ids.length;
      this.#ids.push(streamId);
    } else {
      this.#ids[index] = streamId;
    }
    this.#byId.set(streamId, index);
    return index;
  }

  /** The stream id mapped at an index, if any. */
  idAt(index: number): string | undefined {
    return this.#ids[index];
  }

  /** Unmaps a stream; returns the index it had (now free for reuse) or -1. */
  release(streamId: string): number {
    const index = this.#byId.get(streamId);
    if (index === undefined) return -1;
    this.#byId.delete(streamId);
    this.#ids[index] = undefined;
    this.#free.push(index);
    return index;
  }
}
