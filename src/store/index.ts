/** The store's public surface: the interface, the SQLite and PostgreSQL implementations, secrets, backup and errors. */
export type {
  AnalyticsRecord, CreatorRecord, CreatorStore, LeaseStore, NewStreamRecord, Page, RecordingRecord, RecordingStore, Store, StreamLease, StreamRecord,
  StreamState, StreamStore,
} from './types.js';
export { openSqliteStore, MAX_PAGE_SIZE, type SqliteStoreOptions } from './sqlite-store.js';
export { openPgStore, type PgStoreOptions } from './pg-store.js';
export { openStore, isPostgresUrl, type StoreLocation } from './open-store.js';
export { backupStore } from './backup.js';
export { generateSecret, hashSecret, secretsEqual } from '../core/secrets.js';
export { StoreError, STORE_EXIT_CODES, isStoreError, type StoreErrorCode } from './store-error.js';
export { LATEST_SCHEMA_VERSION } from './migrations.js';
export { PG_LATEST_SCHEMA_VERSION } from './pg-migrations.js';
