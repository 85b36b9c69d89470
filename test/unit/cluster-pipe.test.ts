// The node-to-node pipe's small parts: the cluster secret in config (SHOWCASE_CLUSTER_SECRET), its
// constant-time check, and PipeClient against a real HTTP server on 127.0.0.1 (headers sent, a
// coded refusal kept, a peer that never answers cut at the deadline).
import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config/load-config.js';
import { NODE_HEADER, PipeClient, PipeRequestError, SECRET_HEADER, secretMatches } from '../../src/cluster/pipe-protocol.js';

const SECRET = 'unit-cluster-secret-0123456789';

t.test('cluster.secret: empty by default, from SHOWCASE_CLUSTER_SECRET, too short refused', async (t) => {
  t.equal(loadConfig({ env: {} }).cluster.secret, '');
  t.equal(loadConfig({ env: { SHOWCASE_CLUSTER_SECRET: SECRET } }).cluster.secret, SECRET);
  t.throws(() => loadConfig({ env: { SHOWCASE_CLUSTER_SECRET: 'short' } }), { code: 'SHOWCASE_ERR_CONFIG_INVALID' });
  t.throws(() => loadConfig({ env: { SHOWCASE_CLUSTER_SECRET: 'has a space in it 0123456789' } }), { code: 'SHOWCASE_ERR_CONFIG_INVALID' });
  const c = loadConfig({ env: {} }).cluster;
  t.match(c, { pipeKeepaliveMs: 1000, pipeTimeoutMs: 5000, pipeIdleStopMs: 2000, maxPipes: 512, pipeListenIp: '' });
});

t.test('secretMatches: only the exact secret, never with none configured', async (t) => {
  t.ok(secretMatches(SECRET, SECRET));
  t.notOk(secretMatches(`${SECRET}x`, SECRET));
  t.notOk(secretMatches(SECRET.slice(1), SECRET));
  t.notOk(secretMatches(undefined, SECRET));
  t.notOk(secretMatches(['a'], SECRET));
  t.notOk(secretMatches('', ''), 'no secret configured: nothing matches');
});

t.test('PipeClient: headers, JSON both ways, coded refusals, a deadline', async (t) => {
  const seen: IncomingMessage[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req);
    let body = '';
    req.on('data', (d: Buffer) => { body += d.toString(); });
    req.on('end', () => {
      if (req.url === '/hang') return; // never answers
      if (req.url === '/refuse') {
        res.writeHead(409, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'SHOWCASE_ERR_WHEP_NOT_LIVE', message: 'not live' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echo: body ? JSON.parse(body) : null }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => { server.closeAllConnections(); server.close(); });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new PipeClient({ selfId: 'node-x', secret: SECRET, timeoutMs: 300 });

  const r = await client.call<{ echo: unknown }>(base, 'POST', '/ok', { streamId: 's1' });
  t.same(r, { echo: { streamId: 's1' } }, 'the JSON body goes and comes back');
  t.equal(seen[0]!.headers[SECRET_HEADER], SECRET, 'the secret in its header');
  t.equal(seen[0]!.headers[NODE_HEADER], 'node-x', 'and the node id');

  const refused = await client.call(base, 'GET', '/refuse').catch((e: unknown) => e);
  t.ok(refused instanceof PipeRequestError);
  t.match(refused, { status: 409, code: 'SHOWCASE_ERR_WHEP_NOT_LIVE' }, 'the peer\'s coded refusal is kept');

  const t0 = Date.now();
  const hung = await client.call(base, 'GET', '/hang').catch((e: unknown) => e);
  t.match(hung, { status: 0 }, 'no answer: status 0');
  t.ok(Date.now() - t0 < 3000, `cut at the deadline (${Date.now() - t0} ms)`);
});
