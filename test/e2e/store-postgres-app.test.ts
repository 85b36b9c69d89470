// The whole server on PostgreSQL (store.url): the API's writes land in the database, survive a
// restart of the process on the same database, and a second node's start-up leaves the first
// node's live stream alone. A real RTMP publisher (ffmpeg) goes live through the lease claim.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { publishRtmp } from '../helpers/ffmpeg.js';
import { freshDatabase, pgCluster } from '../helpers/postgres.js';
import { logsOnFailure, startServer, waitFor } from '../helpers/server.js';

const server = await pgCluster(t);

t.test('the server runs on PostgreSQL: API, restart, publish, a second node', async (t) => {
  const url = await freshDatabase(t, server);
  const first = await startServer({ store: { url, maxConnections: 4 } });
  logsOnFailure(t, first);
  t.ok(first.logs.find((l) => l.msg === 'store opened' && l.store === 'postgres'), 'the log says which store');
  t.notMatch(JSON.stringify(first.logs.lines), /password/i, 'no credentials in the log');
  const nodeFile = join(first.dataDir, 'node-id');
  t.ok(existsSync(nodeFile), 'the node id is kept in the data dir');
  const nodeId = readFileSync(nodeFile, 'utf8').trim();

  const creator = await first.api('POST', '/v1/creators', { handle: 'pgshop', displayName: 'PG Shop' });
  t.equal(creator.status, 201);
  t.equal((await first.api('POST', '/v1/creators', { handle: 'pgshop', displayName: 'again' })).status, 409, 'a taken handle is a conflict');
  const s = await first.api('POST', '/v1/streams', { title: 'On Postgres' }, creator.json.token);
  t.equal(s.status, 201);
  await first.close({ keepData: true });

  // The same node restarts on the same database: everything is still there.
  const again = await startServer({ dataDir: first.dataDir, store: { url } });
  logsOnFailure(t, again);
  t.teardown(() => again.close());
  t.equal(readFileSync(nodeFile, 'utf8').trim(), nodeId, 'same node id after a restart');
  const got = await again.api('GET', `/v1/streams/${s.json.id}`, undefined, creator.json.token);
  t.match(got, { status: 200, json: { title: 'On Postgres', state: 'idle' } });

  // A real publisher goes live: the claim is written before media flows.
  const pub = publishRtmp(`${again.rtmp}/${s.json.streamKey}`, 30);
  t.teardown(() => pub.kill('SIGKILL'));
  await waitFor(async () => (await again.api('GET', `/v1/streams/${s.json.id}`)).json?.state === 'live', 'live', 20000);
  const rec = await again.app.store.getStream(s.json.id);
  t.match(rec?.lease, { nodeId }, 'the lease names this node');

  // A second node on the same database starts: it must not end the first node's live stream.
  const other = await startServer({ store: { url }, node: { id: 'node-two' } });
  logsOnFailure(t, other);
  t.teardown(() => other.close());
  t.equal((await other.app.store.getStream(s.json.id))?.state, 'live', 'the other node\'s start-up left it live');

  pub.kill('SIGINT');
  await waitFor(async () => (await again.app.store.getStream(s.json.id))?.state === 'ended', 'ended after the publisher stops', 20000);
  t.equal((await again.app.store.getStream(s.json.id))?.lease, null, 'the lease is released');
});
