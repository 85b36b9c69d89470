// The store contract against the embedded SQLite store (a file per test, so a second store on the
// same file is a second node or a reopen).
import t from 'tap';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/types.js';
import { runStoreContract } from './store-contract.js';

runStoreContract(t, {
  name: 'sqlite',
  async fresh(t) {
    const file = join(t.testdir(), 'showcase.db');
    const opened: Store[] = [];
    t.teardown(() => Promise.all(opened.map((s) => s.close())));
    return async () => {
      const s = openSqliteStore({ file });
      opened.push(s);
      return s;
    };
  },
});
