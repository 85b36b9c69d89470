// The set-up the network-namespace cluster tests share (test/cluster/*-netns.test.ts): node
// processes (dist/src/main.js) in namespaces of a bridge (./netns-bridge.ts), PostgreSQL and Redis
// of the test reached over the bridge, the nodes' common config, and the admin API seen from outside.
import type { Test } from 'tap';
import { existsSync } from 'node:fs';
import { freshDatabase, pgCluster } from './postgres.js';
import { startRedis, type TestRedis } from './redis.js';
import { netnsSkip } from './netns.js';
import { createBridgeNet, type BridgeNet } from './netns-bridge.js';
import { tcpForward, type NodeProcess } from './node-process.js';
import { ADMIN, TEST_LADDER } from './server.js';

/** Why the netns cluster tests cannot run here (no build, or no namespaces), or false. */
export function netnsClusterSkip(): string | false {
  return !existsSync('dist/src/main.js') ? 'run npm run build first (the nodes are dist/src/main.js)' : netnsSkip();
}

/** The admin API of a node (or of a load balancer in front): status and parsed JSON body. */
export async function clusterApi(base: string, method: string, path: string, body?: unknown, opts: { timeoutMs?: number } = {}): Promise<{ status: number; json: any }> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    ...(opts.timeoutMs !== undefined ? { signal: AbortSignal.timeout(opts.timeoutMs) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/**
 * Creates `count` namespaces on a bridge, removed at teardown. When the kernel refuses (a container
 * without CAP_NET_ADMIN) the test is reported as a skip, not a pass, and undefined is returned.
 */
export function bridgeNetOrSkip(t: Test, count: number): BridgeNet | undefined {
  let net: BridgeNet;
  try {
    net = createBridgeNet(count);
  } catch (err) {
    t.skip(`cannot create namespaces here: ${(err as Error).message}`, () => undefined);
    return undefined;
  }
  t.teardown(() => net.remove());
  return net;
}

/**
 * The test PostgreSQL listens on loopback: the namespaces reach it through a forwarder on the
 * bridge (closed at teardown). Returns the database URL as the nodes see it.
 */
export async function forwardDatabase(t: Test, net: BridgeNet, url: string): Promise<URL> {
  const db = new URL(url);
  const pgForward = await tcpForward(net.bridgeAddress, { host: db.hostname, port: Number(db.port) });
  t.teardown(() => pgForward.close());
  db.hostname = net.bridgeAddress;
  db.port = String(pgForward.port);
  return db;
}

/** A fresh database on the run's PostgreSQL (./postgres.ts), reached from the namespaces over the bridge. */
export async function bridgeDatabase(t: Test, net: BridgeNet): Promise<URL> {
  return forwardDatabase(t, net, await freshDatabase(t, await pgCluster(t)));
}

/** A Redis of the test's own listening on the bridge address, removed at teardown. */
export async function bridgeRedis(t: Test, net: BridgeNet): Promise<TestRedis> {
  const redis = await startRedis({ host: net.bridgeAddress });
  t.teardown(() => redis.remove());
  return redis;
}

/**
 * The list the test pushes its started nodes into: at teardown they are stopped, and when the test
 * failed the tail (`tailChars`) of each node's log is printed first.
 */
export function teardownNodes(t: Test, tailChars: number): NodeProcess[] {
  const nodes: NodeProcess[] = [];
  t.teardown(async () => {
    if (!t.passing()) for (const n of nodes) t.comment(`${n.id} log (tail):\n${n.log().slice(-tailChars)}`);
    await Promise.all(nodes.map((n) => n.stop()));
  });
  return nodes;
}

/**
 * The config every netns node shares: listening on its own address, the store and Redis over the
 * bridge, heartbeat 300 ms / TTL 1.5 s, the test ladder. The caller adds webrtc, recording and
 * streams, and extends `cluster` (spread `base.cluster`).
 */
export function netnsNodeConfig(opts: { id: string; address: string; port: number; db: URL; redisUrl: string; leaseMs: number }) {
  const { id, address, port } = opts;
  return {
    logLevel: 'info', adminToken: ADMIN,
    http: { host: address, port }, rtmp: { host: address, port: 1935 },
    store: { url: opts.db.toString(), maxConnections: 4 }, node: { id, url: `http://${address}:${port}`, leaseMs: opts.leaseMs },
    cluster: { redisUrl: opts.redisUrl, heartbeatMs: 300, nodeTtlMs: 1500 },
    transcode: { ladder: TEST_LADDER, x264Preset: 'ultrafast', audioBitrateKbps: 64 },
  };
}
