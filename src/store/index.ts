/** The store's public surface: the interface, the embedded SQLite implementation, secrets, backup and errors. */
export type { CreatorRecord, CreatorStore, Page, Store, StreamRecord, StreamState, StreamStore } from './types.js';
export { openSqliteStore, MAX_PAGE_SIZE, type SqliteStoreOptions } from './sqlite-store.js';
export { backupStore } from './backup.js';
export { generateSecret, hashSecret, secretsEqual } from '../core/secrets.js';
export { StoreError, STORE_EXIT_CODES, isStoreError, type StoreErrorCode } from './store-error.js';
export { LATEST_SCHEMA_VERSION } from './migrations.js';
