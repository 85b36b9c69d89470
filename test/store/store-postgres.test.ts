// The store contract against PostgreSQL: a real server (the run's shared cluster, or one this
// file starts when run by hand), a new database per test.
import t from 'tap';
import { openPgStore } from '../../src/store/pg-store.js';
import type { Store } from '../../src/store/types.js';
import { freshDatabase, pgCluster } from '../helpers/postgres.js';
import { runStoreContract } from './store-contract.js';

const server = await pgCluster(t);

runStoreContract(t, {
  name: 'postgres',
  async fresh(t) {
    const opened: Store[] = [];
    t.teardown(() => Promise.all(opened.map((s) => s.close())));
    // Dropped WITH (FORCE) at teardown, so the drop works whichever teardown runs first.
    const url = await freshDatabase(t, server);
    return async () => {
      const s = await openPgStore({ url });
      opened.push(s);
      return s;
    };
  },
});
