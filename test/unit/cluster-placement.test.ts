// Least-loaded placement, the stream-holder cache and the cluster's config (pure logic, fakes: no Redis, no store).
import t from 'tap';
import { Placement, ingestUrls } from '../../src/cluster/placement.js';
import type { NodeInfo } from '../../src/cluster/node-membership.js';
import { StreamHolders } from '../../src/cluster/stream-holders.js';
import type { StreamRecord } from '../../src/store/types.js';
import { clusterNode } from '../../src/cluster/cluster-node.js';
import { loadConfig } from '../../src/config/load-config.js';
import { pino } from 'pino';
import { WatchTicker } from '../../src/metrics/watch-ticker.js';
import { ViewerSessionTable } from '../../src/metrics/session-table.js';

function node(id: string, streams: number, cpu = 0.1, extra: Partial<NodeInfo> = {}): NodeInfo {
  return { id, url: `http://10.0.0.${id.charCodeAt(0) - 96}:8080`, rtmpHost: `10.0.0.${id.charCodeAt(0) - 96}`, rtmpPort: 1935, rtmpApp: 'live', whip: true, load: { streams, cpu, transcoderSpeed: 1 }, at: 0, ...extra };
}

t.test('a burst of placements between two heartbeats spreads evenly over equal nodes', async (t) => {
  let now = 1000;
  const nodes = [node('a', 0), node('b', 0), node('c', 0)];
  const p = new Placement({ nodes: () => nodes, holdMs: 30_000, now: () => now });
  const counts: Record<string, number> = {};
  for (let i = 0; i < 9; i++) {
    const placed = p.placeLocally();
    counts[placed.nodeId] = (counts[placed.nodeId] ?? 0) + 1;
  }
  t.same(counts, { a: 3, b: 3, c: 3 });
  now += 30_000;
  t.equal(p.placeLocally().nodeId, 'a', 'held placements expire after holdMs: ties go to the lowest id again');
});

t.test('placements other nodes handed out (shared through Redis) count too when placing from this node\'s view', async (t) => {
  const nodes = [node('a', 0), node('b', 0), node('c', 0)];
  const shared: Record<string, number> = { a: 2, b: 1 };
  const p = new Placement({ nodes: () => nodes, holdMs: 30_000, shared: (id) => shared[id] ?? 0 });
  t.equal(p.placeLocally().nodeId, 'c', 'a and b already got placements from other nodes');
  t.equal(p.placeLocally().nodeId, 'b', 'then the larger of own and shared counts: b (1) before a (2), c now 1 too');
});

t.test('clustered placement asks reserve with the candidates in order of preference; Redis down: its own view', async (t) => {
  const nodes = [node('c', 1, 0.5), node('a', 2, 0.1), node('b', 0, 0.3)];
  const asked: unknown[] = [];
  let down = false;
  const p = new Placement({ nodes: () => nodes, holdMs: 30_000, reserve: async (candidates) => {
    asked.push(candidates);
    if (down) throw new Error('Redis down');
    return 'c';
  } });
  t.equal((await p.place()).nodeId, 'c', 'what reserve chose');
  t.same(asked[0], [{ id: 'a', streams: 2 }, { id: 'b', streams: 0 }, { id: 'c', streams: 1 }], 'least CPU first (ties among equal loads go to it)');
  down = true;
  t.equal((await p.place()).nodeId, 'b', 'reserve failing: the fewest streams from this node\'s view');
});

t.test('the node with the fewest streams wins; then the least CPU; a slow transcoder counts against it', async (t) => {
  const p = (nodes: NodeInfo[]) => new Placement({ nodes: () => nodes, holdMs: 0 }).placeLocally().nodeId;
  t.equal(p([node('a', 3), node('b', 1), node('c', 2)]), 'b');
  t.equal(p([node('a', 1, 0.9), node('b', 1, 0.2), node('c', 1, 0.5)]), 'b');
  t.equal(p([node('a', 1, 0.2, { load: { streams: 1, cpu: 0.2, transcoderSpeed: 0.8 } }), node('b', 1, 0.2)]), 'b');
  t.equal(p([node('a', 0)]), 'a', 'a single node places on itself');
});

t.test('ingest URLs come from the node heartbeat: RTMP host and port, WHIP on its node.url', async (t) => {
  t.same(ingestUrls(node('b', 0)), { nodeId: 'b', rtmpUrl: 'rtmp://10.0.0.2:1935/live', whipUrl: 'http://10.0.0.2:8080/whip' });
  t.same(ingestUrls(node('c', 0, 0, { whip: false, rtmpHost: 'fd00::3', rtmpPort: 1936 })), { nodeId: 'c', rtmpUrl: 'rtmp://[fd00::3]:1936/live' });
});

t.test('holders: another node\'s unexpired lease on a live stream, cached, lookups shared, bounded', async (t) => {
  let now = 10_000;
  let reads = 0;
  const recs = new Map<string, Partial<StreamRecord>>([
    ['s1', { state: 'live', lease: { nodeId: 'b', expiresAt: 50_000 } }],
    ['s2', { state: 'live', lease: { nodeId: 'self', expiresAt: 50_000 } }],
    ['s3', { state: 'live', lease: { nodeId: 'c', expiresAt: 5_000 } }],
    ['s4', { state: 'ended', lease: null }],
  ]);
  const store = { getStream: async (id: string) => { reads++; return recs.get(id) as StreamRecord | undefined; } };
  const h = new StreamHolders({ store, selfId: 'self', ttlMs: 1000, capacity: 16, now: () => now });
  const [a, b] = await Promise.all([h.holder('s1'), h.holder('s1')]);
  t.equal(a, 'b');
  t.equal(b, 'b');
  t.equal(reads, 1, 'concurrent lookups of one stream share one store read');
  t.equal(await h.holder('s1'), 'b');
  t.equal(reads, 1, 'cached');
  t.equal(await h.holder('s2'), undefined, 'its own lease is not another node\'s');
  t.equal(await h.holder('s3'), undefined, 'an expired lease holds nothing (that node is gone)');
  t.equal(await h.holder('s4'), undefined, 'not live');
  t.equal(await h.holder('nope'), undefined, 'unknown');
  recs.set('s4', { state: 'live', lease: { nodeId: 'c', expiresAt: 50_000 } });
  now += 600;
  t.equal(await h.holder('s4'), 'c', 'a not-held answer is remembered half as long: a stream that just went live elsewhere is found');
  for (let i = 0; i < 100; i++) await h.holder(`x${i}`);
  reads = 0;
  await h.holder('s1');
  t.equal(reads, 1, 'the cache holds capacity entries: the oldest were evicted');
});

t.test('holders: with the store out of reach (a PostgreSQL restart) the last answer stands; with none, the error', async (t) => {
  let now = 10_000;
  let down = false;
  const store = { getStream: async (id: string) => {
    if (down) throw new Error('connection refused');
    return (id === 's1' ? { state: 'live', lease: { nodeId: 'b', expiresAt: 50_000 } } : undefined) as StreamRecord | undefined;
  } };
  const h = new StreamHolders({ store, selfId: 'self', ttlMs: 1000, capacity: 16, now: () => now });
  t.equal(await h.holder('s1'), 'b');
  down = true;
  now += 5000;
  t.equal(await h.holder('s1'), 'b', 'an expired answer is used while the store fails');
  await t.rejects(h.holder('s9'), /connection refused/, 'nothing known: the caller answers locally');
  down = false;
  now += 5000;
  t.equal(await h.holder('s1'), 'b', 'read again once the store is back');
});

t.test('config: no Redis URL, no cluster; a Redis URL needs node.url; the environment sets both', async (t) => {
  const deps = { store: { getStream: async () => undefined }, nodeId: 'n1', streams: () => ({ live: 0, speeds: [] }), ingest: () => ({ rtmpPort: 1935, whip: false }), logger: pino({ level: 'silent' }),
    ticker: new WatchTicker({ table: new ViewerSessionTable() }), roomSockets: () => [], holdsLive: () => false };
  t.equal(clusterNode(loadConfig({ env: {} }), deps), undefined, 'the single-node default builds nothing of the cluster');
  t.throws(() => loadConfig({ env: { SHOWCASE_REDIS_URL: 'redis://127.0.0.1:6379' } }), { code: 'SHOWCASE_ERR_CONFIG_INVALID' });
  t.throws(() => loadConfig({ env: { SHOWCASE_REDIS_URL: 'http://x' } }), { code: 'SHOWCASE_ERR_CONFIG_INVALID' }, 'not a redis URL');
  const config = loadConfig({ env: { SHOWCASE_REDIS_URL: 'redis://127.0.0.1:6379', SHOWCASE_NODE_URL: 'http://10.0.0.2:8080' } });
  t.equal(config.cluster.redisUrl, 'redis://127.0.0.1:6379');
  t.equal(config.node.url, 'http://10.0.0.2:8080');
  const node = clusterNode(config, deps)!;
  t.ok(node, 'a cluster node when both are set');
  t.match(node.membership.nodes()[0], { id: 'n1', url: 'http://10.0.0.2:8080', rtmpHost: '10.0.0.2', rtmpPort: 1935 }, 'its own heartbeat, RTMP host from node.url');
  await node.close();
});
