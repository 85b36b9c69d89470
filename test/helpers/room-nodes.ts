// Two in-process nodes (node-a, node-c) on one fresh PostgreSQL database and one Redis started for
// the test, with room limits loose enough for a test's bursts: the set-up of the room-across-nodes tests.
import type { Test } from 'tap';
import { freePort } from './free-port.js';
import { freshDatabase, pgCluster } from './postgres.js';
import { startRedis } from './redis.js';
import { logsOnFailure, startServer, type TestServer } from './server.js';

export async function twoRoomNodes(t: Test): Promise<{ a: TestServer; c: TestServer; redis: Awaited<ReturnType<typeof startRedis>> }> {
  const storeUrl = await freshDatabase(t, await pgCluster(t));
  const redis = await startRedis();
  t.teardown(() => redis.remove());
  const node = async (id: string): Promise<TestServer> => {
    const port = await freePort();
    const srv = await startServer({
      http: { host: '127.0.0.1', port }, store: { url: storeUrl, maxConnections: 4 }, recording: { enabled: false },
      node: { id, url: `http://127.0.0.1:${port}` }, cluster: { redisUrl: redis.url, heartbeatMs: 300, nodeTtlMs: 1500 },
      room: { shopperCreatesPerMinute: 100, messagesPerSecond: 50, messageBurst: 20, tickMs: 100 },
    });
    logsOnFailure(t, srv);
    t.teardown(() => srv.close());
    return srv;
  };
  const a = await node('node-a');
  const c = await node('node-c');
  return { a, c, redis };
}
