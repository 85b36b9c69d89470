/**
 * A serial queue of async file operations with a byte budget: operations run one at a time in
 * call order, and the bytes they carry are counted until written, so a disk slower than the
 * stream shows up as a number the owner can bound instead of as unbounded memory.
 */
export class WriteQueue {
  #chain: Promise<void> = Promise.resolve();
  #pending = 0;
  queuedBytes = 0;
  /** The first error an operation threw; later operations still run (the owner decides). */
  onError: (err: unknown) => void = () => {};

  /** Operations not yet finished. */
  get pending(): number {
    return this.#pending;
  }

  /** Runs op after every operation queued before it; bytes count against queuedBytes until it ends. */
  push(op: () => Promise<void>, bytes = 0): void {
    this.queuedBytes += bytes;
    this.#pending++;
    this.#chain = this.#chain.then(op).catch((err) => this.onError(err)).finally(() => {
      this.queuedBytes -= bytes;
      this.#pending--;
    });
  }

  /** Resolves once every operation queued so far has run. */
  drain(): Promise<void> {
    return this.#chain;
  }
}

/** Writes a whole buffer to a file handle (a regular file may take a write in pieces near ENOSPC). */
export async function writeAll(fh: import('node:fs/promises').FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    if (bytesWritten <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    off += bytesWritten;
  }
}
