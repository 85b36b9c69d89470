// Viewer counts and watch sessions summed across nodes (src/cluster/cluster-audience.ts): three
// in-process nodes on one PostgreSQL and one Redis started by the test. A stream published (real
// ffmpeg) to A; an HLS viewer whose playlist goes through B (proxied: its session lives on A,
// heartbeated on A), two heartbeated watch sessions of B's own table (as B's HLS route or a WHEP
// viewer piped to B opens them), room sockets on B and C. The API on C shows the sum (GET
// /v1/streams/:id, GET /v1/live, the room's viewers frame, the analytics, proxied to A, the
// stream's analytics owner, with the cluster-wide peak and watch seconds); only A writes the
// analytics; each node's /metrics stays its own. A share nobody refreshes (a dead node) expires; a
// Redis outage leaves each node showing its own; a closed node's share is gone at once.
import t from 'tap';
import { Redis } from 'ioredis';
import { publishRtmp } from '../helpers/ffmpeg.js';
import { freshDatabase, pgCluster } from '../helpers/postgres.js';
import { startRedis } from '../helpers/redis.js';
import { openRoom, type RoomClient } from '../helpers/room-client.js';
import { getText, logsOnFailure, startServer, waitFor, type TestServer } from '../helpers/server.js';
import { freePort } from '../helpers/free-port.js';

t.test('viewers on two nodes, summed on a third; a dead share expires; a Redis outage; a closed node', async (t) => {
  const storeUrl = await freshDatabase(t, await pgCluster(t));
  const redis = await startRedis();
  t.teardown(() => redis.remove());
  const ttlMs = 1500;
  const node = async (id: string): Promise<TestServer> => {
    const port = await freePort();
    const srv = await startServer({
      http: { host: '127.0.0.1', port }, store: { url: storeUrl, maxConnections: 4 }, recording: { enabled: false },
      node: { id, url: `http://127.0.0.1:${port}` }, cluster: { redisUrl: redis.url, heartbeatMs: 300, nodeTtlMs: 1500, audienceTtlMs: ttlMs },
      room: { tickMs: 100 }, metrics: { sessionTimeoutMs: 6000, heartbeatsPerMinute: 10_000 },
    });
    logsOnFailure(t, srv);
    t.teardown(() => srv.close());
    return srv;
  };
  const a = await node('node-a');
  const b = await node('node-b');
  const c = await node('node-c');
  const { id, streamKey } = await a.createStream('Summed');
  const pub = publishRtmp(`${a.rtmp}/${streamKey}`, 120);
  t.teardown(() => { pub.kill('SIGKILL'); });
  await waitFor(async () => (await a.app.store.getStream(id))?.state === 'live', 'live on A', 20_000);

  // An HLS viewer through B: the multivariant is proxied to A, which issues the session.
  const master = await waitFor(async () => { const r = await getText(`${b.base}/hls/${id}/master.m3u8`); return r.status === 200 ? r : undefined; }, 'B serves A\'s multivariant', 20_000);
  const sidA = /_sid=([A-Za-z0-9_-]+)/.exec(master.text)?.[1];
  t.ok(sidA, 'a session id in the multivariant');
  t.equal(b.app.origin.get(id), undefined, 'B holds none of the stream: proxied');
  // Two sessions of B's own table, kept alive by heartbeats sent to B.
  const sidsB = [b.app.sessions.issue(id, 'hls', 'live'), b.app.sessions.issue(id, 'hls', 'live')];
  const beat = async (srv: TestServer, sid: string) => (await srv.api('POST', `/v1/streams/${id}/heartbeat`, { sessionId: sid }, null)).status;
  t.equal(await beat(a, sidA!), 204, 'A knows its session');
  for (const s of sidsB) t.equal(await beat(b, s), 204, 'B knows its sessions');
  let beating = true;
  const heartbeatFailures: string[] = [];
  const heartbeats = (async () => {
    for (let i = 0; beating && i < 600; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      if (!beating) break;
      // Every viewer's heartbeat must land: a lost one would let its session time out mid-test.
      const codes = await Promise.all([beat(a, sidA!), ...sidsB.map((s) => beat(b, s))]).catch(() => [] as number[]);
      if (codes.some((c) => c !== 204)) heartbeatFailures.push(codes.join(','));
    }
  })();
  t.teardown(async () => { beating = false; await heartbeats; });

  // Room sockets: one on B, two on C.
  const rooms: RoomClient[] = [];
  t.teardown(() => { for (const r of rooms) r.ws.close(); });
  const join = async (srv: TestServer) => {
    const r = await openRoom(srv.base, id);
    await r.next((f) => f.type === 'history');
    rooms.push(r);
    return r;
  };
  await join(b);
  const onC = await join(c);
  await join(c);

  const viewersOn = async (srv: TestServer) => (await srv.api('GET', `/v1/streams/${id}`)).json.viewers;
  await waitFor(async () => { const v = await viewersOn(c); return v?.watching === 3 && v.room === 3 ? v : undefined; }, 'C shows 3 watching (1 on A, 2 on B) and 3 room sockets (1 on B, 2 on C)', 10_000);
  t.same(await viewersOn(c), { watching: 3, room: 3 }, 'GET /v1/streams/:id on C: the sum');
  await waitFor(async () => { const v = await viewersOn(a); return v?.watching === 3 && v.room === 3 ? v : undefined; }, 'A shows the sum too', 5000);
  t.pass('GET /v1/streams/:id on A: the sum too');
  t.equal(c.app.ticker.snapshot(id)?.viewersTotal ?? 0, 0, 'C itself has no watch session of it');
  await onC.next((f) => f.type === 'viewers' && f.count === 3, 5000);
  t.pass('the room\'s viewers frame on C counts every node\'s sockets');
  const live = await waitFor(async () => { const r = await c.api('GET', '/v1/live'); const row = r.json.live?.find((s: any) => s.id === id); return row?.viewers === 3 ? row : undefined; }, 'GET /v1/live on C: 3 viewers', 5000);
  t.equal(live.viewers, 3, 'GET /v1/live orders by the summed count');

  // The analytics, asked of C, come from A (the owner), summed: peak 3 while A's own peak is 1.
  let lastAnalytics = '';
  t.teardown(() => { if (!t.passing()) t.comment('last analytics answer on C:', lastAnalytics); });
  const analytics = await waitFor(async () => {
    const r = await c.api('GET', `/v1/streams/${id}/analytics`);
    const onA = await a.api('GET', `/v1/streams/${id}/analytics`);
    lastAnalytics = `${r.status} owner ${await c.app.cluster!.audience.ownerOf(id)} ${JSON.stringify({ peak: r.json?.peakConcurrentViewers, current: r.json?.currentViewers, error: r.json?.error })} on A: ${onA.json?.peakConcurrentViewers} rounds ${a.app.cluster!.audience.rounds}/${a.app.cluster!.audience.failures}`;
    return r.status === 200 && r.json.peakConcurrentViewers === 3 && r.json.currentViewers === 3 ? r.json : undefined;
  }, 'analytics on C: peak 3, current 3', 10_000);
  t.equal(a.app.ticker.snapshot(id)?.peakViewers, 1, 'A alone saw one viewer at most');
  t.equal(await c.app.cluster!.audience.ownerOf(id), 'node-a', 'A, holding the stream, owns its analytics');
  // B's two sessions add two watch seconds a tick to A's own one: wait for a few ticks of them.
  const summed = await waitFor(async () => {
    const r = await c.api('GET', `/v1/streams/${id}/analytics`);
    const own = a.app.ticker.snapshot(id)!.watchSecondsTotal;
    return r.json.watchMinutes.live * 60 >= own + 8 ? { cluster: r.json.watchMinutes.live * 60, own } : undefined;
  }, 'watch seconds summed across nodes', 15_000, 250);
  t.ok(summed.cluster >= summed.own + 8, `cluster watch seconds (${summed.cluster.toFixed(1)}) above A's own (${summed.own})`);
  t.equal(analytics.liveViewers.peak, 3, 'the journey block\'s live peak is the cluster\'s');
  // Only the owner writes: B's periodic write is skipped, so the stored peak stays the cluster's.
  await a.app.analytics.persistTracked();
  await b.app.analytics.persistTracked();
  t.equal((await a.app.store.getAnalytics(id))?.peakViewers, 3, 'the store holds A\'s summed figures, B wrote none over them');
  // /metrics stays each node's own.
  const own = async (srv: TestServer) => {
    const text = (await getText(`${srv.base}/metrics`)).text;
    return text.split('\n').filter((l) => l.startsWith('showcase_stream_viewers{') && l.includes(`"${id}"`)).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  };
  t.equal(await own(a), 1, 'A\'s /metrics: its own viewer');
  t.equal(await own(b), 2, 'B\'s /metrics: its own two');
  const nodesView = (await c.api('GET', '/v1/cluster/nodes')).json;
  t.match(nodesView.audience, { healthy: true }, 'the operator sees the shares\' round trips healthy');
  t.ok(nodesView.audience.rounds > 3 && nodesView.audience.failures === 0, 'one a tick, none failed');

  t.same(heartbeatFailures, [], 'every heartbeat so far landed on the node that issued its session');

  // A node that dies leaves a share nobody refreshes: it counts until ttlMs after it was written.
  const raw = new Redis(redis.url);
  t.teardown(() => raw.disconnect());
  const wrote = Date.now();
  await raw.hset(`showcase:audience:${id}`, 'node-dead', JSON.stringify({ t: wrote, s: [5, 0, 0, 0], r: 1 }));
  await waitFor(async () => (await viewersOn(c))?.watching === 8, 'the dead node\'s last share counts while fresh', 5000, 50);
  await waitFor(async () => (await viewersOn(c))?.watching === 3, 'its share expires', 10_000, 50);
  const expiredAfter = Date.now() - wrote;
  // Judged at each read (once a tick): gone within the TTL plus a tick (and this poll's own lag).
  t.ok(expiredAfter >= ttlMs && expiredAfter <= ttlMs + 1000 + 750, `a dead node's share gone ${expiredAfter} ms after its last write (ttl ${ttlMs} ms)`);
  t.comment(`dead share expired after ${expiredAfter} ms (audienceTtlMs ${ttlMs})`);
  await waitFor(async () => (await raw.hexists(`showcase:audience:${id}`, 'node-dead')) === 0, 'a reader deletes the stale field', 5000);

  // Redis down: each node shows at least its own.
  await redis.stop();
  await waitFor(async () => (await viewersOn(a))?.watching === 1, 'A: its own HLS viewer', 10_000);
  await waitFor(async () => (await viewersOn(b))?.watching === 2, 'B: its own two', 10_000);
  await waitFor(async () => (await viewersOn(c))?.room === 2, 'C: its own two sockets', 10_000);
  t.equal((await c.api('GET', `/v1/streams/${id}/analytics`)).status, 200, 'analytics answered locally meanwhile');
  await redis.restart();
  await waitFor(async () => { const v = await viewersOn(c); return v?.watching === 3 && v.room === 3 ? v : undefined; }, 'sums again once Redis is back', 15_000);
  t.pass('sums back after the outage');

  // B stops: its share (2 sessions, 1 socket) is withdrawn at once.
  const stopped = Date.now();
  await b.close();
  await waitFor(async () => { const v = await viewersOn(c); return v?.watching === 1 && v.room === 2 ? v : undefined; }, 'C: A\'s viewer and C\'s sockets only', 5000, 50);
  t.comment(`a closed node's share gone from C's sums ${Date.now() - stopped} ms after it began stopping`);
  pub.kill('SIGKILL');
});
