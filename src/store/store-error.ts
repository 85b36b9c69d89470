/**
 * Start-up failures of the persistent store, each with a stable code and its own process exit
 * code so an operator (or a supervisor such as systemd) can tell them apart without reading logs.
 *
 * The codes are not (yet) in src/core/errors.ts because they never reach an HTTP client: they stop
 * the process. src/main.ts maps a StoreError to `process.exitCode = err.exitCode`.
 *
 * | code                           | exit | sysexits.h  | meaning / operator action                         |
 * |--------------------------------|------|-------------|---------------------------------------------------|
 * | SHOWCASE_ERR_STORE_CORRUPT     | 65   | EX_DATAERR  | the file is not a SQLite database or is damaged:  |
 * |                                |      |             | restore a backup; the file is left untouched      |
 * | SHOWCASE_ERR_STORE_TOO_NEW     | 66   | EX_NOINPUT  | written by a newer Showcase (schema version above |
 * |                                |      |             | what this build knows): upgrade, or restore a     |
 * |                                |      |             | backup taken before the upgrade                   |
 * | SHOWCASE_ERR_STORE_UNAVAILABLE | 74   | EX_IOERR    | the path cannot be opened for writing (directory, |
 * |                                |      |             | permissions, missing volume, disk full, locked)   |
 */

/** Every code a StoreError can carry. */
export type StoreErrorCode = 'SHOWCASE_ERR_STORE_CORRUPT' | 'SHOWCASE_ERR_STORE_TOO_NEW' | 'SHOWCASE_ERR_STORE_UNAVAILABLE';

/** Process exit code per StoreErrorCode (distinct, from sysexits.h; see the table above). */
export const STORE_EXIT_CODES: Readonly<Record<StoreErrorCode, number>> = Object.freeze({
  SHOWCASE_ERR_STORE_CORRUPT: 65,
  SHOWCASE_ERR_STORE_TOO_NEW: 66,
  SHOWCASE_ERR_STORE_UNAVAILABLE: 74,
});

/** A store that cannot be used at all: carries a stable code, the exit code to stop with, and the file. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly exitCode: number;
  /** The database path involved, for the operator's log line. */
  readonly file: string;

  constructor(code: StoreErrorCode, file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
    this.exitCode = STORE_EXIT_CODES[code];
    this.file = file;
  }
}

/** True for a StoreError (also across module copies, by name and code shape). */
export function isStoreError(err: unknown): err is StoreError {
  return err instanceof StoreError || (err instanceof Error && err.name === 'StoreError' && typeof (err as { code?: unknown }).code === 'string');
}
