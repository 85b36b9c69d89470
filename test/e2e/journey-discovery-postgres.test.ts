// Discovery (issue 15) through the HTTP API with the server on PostgreSQL (store.url): the same
// cases as on SQLite (journey-discovery-cases.ts), so both stores' queries answer the pages alike.
import t from 'tap';
import { freshDatabase, pgCluster } from '../helpers/postgres.js';
import { startServer, logsOnFailure } from '../helpers/server.js';
import { runDiscoveryCases } from './journey-discovery-cases.js';

const url = await freshDatabase(t, await pgCluster(t));
const srv = await startServer({ store: { url, maxConnections: 4 } });
t.teardown(() => srv.close());
logsOnFailure(t, srv);
await runDiscoveryCases(t, srv);
