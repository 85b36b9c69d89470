// Discovery (issue 15) through the HTTP API on the SQLite store: the cases are in
// journey-discovery-cases.ts (storefront paging, placement order of GET /v1/live and of product
// listings by levels, per-stream analytics).
import t from 'tap';
import { startServer, logsOnFailure } from '../helpers/server.js';
import { runDiscoveryCases } from './journey-discovery-cases.js';

const srv = await startServer();
t.teardown(() => srv.close());
logsOnFailure(t, srv);
await runDiscoveryCases(t, srv);
