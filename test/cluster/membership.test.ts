// Node membership in a real Redis (Debian's redis-server, started by the test): nodes join with
// their load, a node that stops heartbeating leaves the set when its key expires, a stopping node
// leaves at once, and a Redis outage is logged, retried and survived.
import t from 'tap';
import { Redis } from 'ioredis';
import { startRedis } from '../helpers/redis.js';
import { NodeMembership, type NodeInfo } from '../../src/cluster/node-membership.js';
import { LogSink } from '../helpers/server.js';
import { createLogger } from '../../src/core/logger.js';

function info(id: string, streams: number): NodeInfo {
  return { id, url: `http://127.0.0.1:${8000 + streams}`, rtmpHost: '127.0.0.1', rtmpPort: 1935, rtmpApp: 'live', whip: false, load: { streams, cpu: 0.1, transcoderSpeed: 0 }, at: Date.now() };
}

/** Heartbeats m until pred holds, at most n times (each a real round trip to Redis). */
async function beatUntil(m: NodeMembership, pred: () => boolean, n = 100): Promise<boolean> {
  for (let i = 0; i < n; i++) {
    await m.heartbeat();
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

t.test('join, load, expiry of a silent node, leave on close, a Redis outage survived', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.remove());
  const logs = new LogSink();
  const logger = createLogger('info', logs);
  const opts = { redisUrl: redis.url, keyPrefix: 'sc-test', heartbeatMs: 60_000, nodeTtlMs: 800, maxNodes: 64, placementHoldMs: 30_000, logger };
  let aStreams = 2;
  const a = new NodeMembership({ ...opts, self: () => info('a', aStreams) });
  const b = new NodeMembership({ ...opts, self: () => info('b', 5) });
  t.teardown(() => Promise.all([a.close(), b.close()]));
  await a.start();
  await b.start();
  await a.heartbeat();
  t.same(a.nodes().map((n) => n.id).sort(), ['a', 'b'], 'a sees itself and b');
  t.equal(a.node('b')?.load.streams, 5, 'with b\'s load');
  aStreams = 3;
  await a.heartbeat();
  await b.heartbeat();
  t.equal(b.node('a')?.load.streams, 3, 'each heartbeat carries the load as it is now');

  // Placement is one atomic step in Redis: creates through two nodes at once still spread, and
  // every node's view of recent placements (read at its heartbeat) has them.
  const cands = [{ id: 'a', streams: 0 }, { id: 'b', streams: 0 }, { id: 'c', streams: 1 }];
  const chosen = await Promise.all([a.reserve(cands), b.reserve(cands), a.reserve(cands), b.reserve(cands)]);
  t.same([...chosen].sort(), ['a', 'a', 'b', 'b'], `four placements at once from two nodes, spread counting c's stream (${chosen.join(',')})`);
  t.equal(await a.reserve(cands), 'c', 'then c: its one stream and no placements is the least (2, 2, 1)');
  t.equal(await a.reserve(cands), 'a', 'a tie (2, 2, 2) goes to the first candidate, the preferred one');
  await b.heartbeat();
  t.same([b.placedRecently('a'), b.placedRecently('b'), b.placedRecently('c')], [3, 2, 0], 'every member\'s placements in each view as of its heartbeat (c is no member: not read)');

  // A node that dies without leaving: its key, written by another client, is never renewed.
  const raw = new Redis(redis.url);
  t.teardown(() => raw.disconnect());
  await raw.multi().set('sc-test:node:ghost', JSON.stringify(info('ghost', 0)), 'PX', 300).sadd('sc-test:nodes', 'ghost').exec();
  await a.heartbeat();
  t.ok(a.node('ghost'), 'the silent node was in the set');
  t.ok(await beatUntil(a, () => a.node('ghost') === undefined), 'it left the set once its heartbeat key expired');
  t.equal(await raw.sismember('sc-test:nodes', 'ghost'), 0, 'and its id was removed from the members');
  t.equal(await a.isGone('ghost'), true, 'asked of Redis: the silent node is gone');
  t.equal(await a.isGone('b'), false, 'a heartbeating one is not');
  t.equal(await a.isGone('a'), false, 'nor this node');
  t.ok(logs.find((l) => l.msg === 'cluster node left (its heartbeat expired)' && l.nodeId === 'ghost'));

  // A node that stops cleanly leaves at once.
  await b.close();
  t.equal(await raw.exists('sc-test:node:b'), 0, 'a closing node deletes its key');
  await a.heartbeat();
  t.same(a.nodes().map((n) => n.id), ['a']);

  // Redis down: logged once with its code, retried, and the node keeps itself in its own view.
  await redis.stop();
  await a.heartbeat();
  await a.heartbeat();
  t.equal(a.healthy, false);
  t.ok(a.failures >= 2, 'each heartbeat retried');
  t.equal(logs.lines.filter((l) => l.code === 'SHOWCASE_ERR_CLUSTER_REDIS_UNAVAILABLE').length, 1, 'the outage is logged once');
  t.same(a.nodes().map((n) => n.id), ['a'], 'placement still has this node');
  t.equal(await a.isGone('ghost'), false, 'with Redis down nobody is known to be gone');
  await redis.restart();
  t.ok(await beatUntil(a, () => a.healthy), 'heartbeats resume once Redis is back (the client reconnected)');
  const raw2 = new Redis(redis.url);
  t.teardown(() => raw2.disconnect());
  t.ok(JSON.parse((await raw2.get('sc-test:node:a'))!).load.streams === 3, 'the node re-registered in the restarted (empty) Redis');
  t.ok(logs.find((l) => l.msg === 'cluster Redis reachable again: heartbeats resumed'));
});
