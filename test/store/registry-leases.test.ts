// Two nodes (two StreamRegistry instances, each with its own store connection) on one database,
// SQLite file and PostgreSQL: one publisher per key across nodes, a restart sweeps only what is
// abandoned, and a lost lease ends the stream on the node that lost it.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { createLogger } from '../../src/core/logger.js';
import type { PublisherHandle } from '../../src/core/live-stream.js';
import { hashSecret } from '../../src/core/secrets.js';
import { StreamRegistry } from '../../src/core/stream-registry.js';
import { openPgStore } from '../../src/store/pg-store.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/types.js';
import { freshDatabase, pgCluster } from '../helpers/postgres.js';
import { stream } from './store-contract.js';

const log = createLogger('silent');
const LEASE_MS = 10_000;

function publisher(id: string): PublisherHandle & { closed: string | undefined } {
  const p = { id, protocol: 'rtmp' as const, remoteAddress: '127.0.0.1', media: { form: 'packets' as const, tracks: [] }, closed: undefined as string | undefined, isAlive: () => p.closed === undefined, close: (r: string) => void (p.closed = r) };
  return p;
}

async function twoNodes(t: Test, fresh: Fresh) {
  const open = await fresh(t);
  let now = 1_000_000;
  const clock = () => now;
  const sa = await open();
  const sb = await open();
  t.teardown(async () => {
    await sa.close();
    await sb.close();
  });
  const a = new StreamRegistry({ store: sa, logger: log, reconnectGraceMs: 0, nodeId: 'node-a', leaseMs: LEASE_MS, now: clock });
  const b = new StreamRegistry({ store: sb, logger: log, reconnectGraceMs: 0, nodeId: 'node-b', leaseMs: LEASE_MS, now: clock });
  await sa.createStream(stream('s1', { streamKeyHash: hashSecret('key-1') }));
  return { a, b, sa, sb, clock, advance: (ms: number) => void (now += ms) };
}

/** A fresh database for one test, and how to open a store (a node's connection) on it. */
type Fresh = (t: Test) => Promise<() => Promise<Store>>;

function cases(t: Test, name: string, open: Fresh): void {
  t.test(`${name}: a key live on one node is refused on the other, until its lease expires`, async (t) => {
    const { a, b, sb, advance } = await twoNodes(t, open);
    const pa = publisher('pa');
    const first = await a.authorizePublish('key-1', pa);
    t.ok(first.ok, 'node A takes the key');
    t.match(await sb.getStream('s1'), { state: 'live', lease: { nodeId: 'node-a' } }, 'the database says A serves it');
    t.same(await b.authorizePublish('key-1', publisher('pb')), { ok: false, code: 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING', reason: 'already publishing' }, 'node B refuses a second publisher');
    t.same(await b.checkPublish('key-1', { remoteAddress: '127.0.0.1', protocol: 'webrtc' }), { ok: false, code: 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING', reason: 'already publishing' }, 'and says so before negotiating');
    t.same(await b.recoverInterrupted(), [], 'B starting up leaves A\'s stream alone');
    advance(LEASE_MS / 2);
    await a.renewLeases();
    advance(LEASE_MS / 2 + 1);
    t.notOk((await b.authorizePublish('key-1', publisher('pb2'))).ok, 'renewed: still A\'s');

    // A stops renewing (cut off from the database, or hung): the lease runs out and B may take over.
    advance(LEASE_MS + 1);
    const pb = publisher('pb3');
    t.ok((await b.authorizePublish('key-1', pb)).ok, 'B takes over after the lease expired');
    await a.renewLeases();
    t.equal(a.get('s1')?.state, 'ended', 'A learns at its next renewal that it lost the key and ends its copy');
    t.match(pa.closed, /lease lost/, 'A\'s publisher is disconnected');
    await a.flush();
    t.match(await sb.getStream('s1'), { state: 'live', lease: { nodeId: 'node-b' } }, 'A\'s end did not end B\'s stream');

    b.end('s1', 'publisher-stopped');
    await b.flush();
    t.match(await sb.getStream('s1'), { state: 'ended', endReason: 'publisher-stopped', lease: null });
  });

  t.test(`${name}: a restarted node sweeps its own and expired streams only`, async (t) => {
    const { a, b, sa, clock, advance } = await twoNodes(t, open);
    await sa.createStream(stream('s2', { streamKeyHash: hashSecret('key-2') }));
    t.ok((await a.authorizePublish('key-1', publisher('p1'))).ok);
    t.ok((await b.authorizePublish('key-2', publisher('p2'))).ok);
    // Node A's process dies; a new process with the same node id starts.
    const a2 = new StreamRegistry({ store: sa, logger: log, reconnectGraceMs: 0, nodeId: 'node-a', leaseMs: LEASE_MS, now: clock });
    t.same(await a2.recoverInterrupted(), ['s1'], 'its own stream is ended (interrupted)');
    t.match(await sa.getStream('s2'), { state: 'live', lease: { nodeId: 'node-b' } }, 'B\'s stream goes on');
    advance(LEASE_MS - 1);
    await a2.renewLeases();
    t.equal((await sa.getStream('s2'))?.state, 'live', 'a lease not yet expired is not swept by the periodic tick');
    // Node B dies for good (no restart): once its lease has run out, A's periodic tick interrupts
    // its stream (a reconnect anywhere may continue it), and ends it once the grace (0 here) and one
    // more lease period ran out with no publisher.
    advance(2);
    await a2.renewLeases();
    t.match(await sa.getStream('s2'), { state: 'interrupted', endedAt: null, lease: { nodeId: 'node-b', expiresAt: clock() } }, 'an expired lease is swept to interrupted, naming B');
    const abandoned: string[][] = [];
    a2.on('abandoned', (ids) => abandoned.push(ids));
    advance(LEASE_MS - 1);
    await a2.renewLeases();
    t.equal((await sa.getStream('s2'))?.state, 'interrupted', 'not ended before the grace and one lease period');
    advance(1);
    await a2.renewLeases();
    t.match(await sa.getStream('s2'), { state: 'ended', endReason: /^interrupted; no reconnect within 0 ms/, lease: null }, 'ended once nobody continued it');
    t.same(abandoned, [['s2']], 'announced for its recording to be finalized');
  });

  t.test(`${name}: a dead node's interrupted stream: its publisher's reconnect on another node continues it; a restart restores only its own`, async (t) => {
    const { a, b, sa, sb, clock, advance } = await twoNodes(t, open);
    await sa.createStream(stream('s2', { streamKeyHash: hashSecret('key-2') }));
    t.ok((await a.authorizePublish('key-1', publisher('p1'))).ok);
    t.ok((await b.authorizePublish('key-2', publisher('p2'))).ok);
    // kill -9 of B: its lease expires, A's tick interrupts s2 naming B.
    advance(LEASE_MS + 1);
    await a.renewLeases();
    t.match(await sa.getStream('s2'), { state: 'interrupted', lease: { nodeId: 'node-b' } });
    // A third node C (its own registry) starting up restores nothing of B's.
    const prepared: string[] = [];
    const c = new StreamRegistry({ store: sb, logger: log, reconnectGraceMs: 60_000, nodeId: 'node-c', leaseMs: LEASE_MS, now: clock, prepareContinue: async (rec) => void prepared.push(`c:${rec.id}`) });
    t.same(await c.restoreInterrupted(), [], 'another node\'s interrupted stream is not restored at start-up');
    t.equal(c.get('s2'), undefined);
    // The publisher reconnects through the load balancer and lands on C: C continues the same stream.
    const got = await c.authorizePublish('key-2', publisher('p2b'));
    t.ok(got.ok, 'accepted on C');
    t.equal(got.ok && got.stream.id, 's2', 'the same stream id');
    t.same(prepared, ['c:s2'], 'C prepared the continuation (HLS numbering, recording) before the publisher attached');
    t.match(await sa.getStream('s2'), { state: 'live', startedAt: 1_000_000, lease: { nodeId: 'node-c' } }, 'live on C, its start kept');
    // B restarts now: s2 is C's; nothing to restore, nothing to end.
    const b2 = new StreamRegistry({ store: sb, logger: log, reconnectGraceMs: 60_000, nodeId: 'node-b', leaseMs: LEASE_MS, now: clock });
    t.same(await b2.recoverInterrupted(), [], 'B\'s restart ends nothing of C\'s');
    t.same(await b2.restoreInterrupted(), []);
    t.equal((await sa.getStream('s2'))?.lease?.nodeId, 'node-c');
  });

  t.test(`${name}: a publisher arriving for a stream whose node left the cluster takes it over before the lease expires`, async (t) => {
    const { a, sa, sb, clock } = await twoNodes(t, open);
    t.ok((await a.authorizePublish('key-1', publisher('p1'))).ok);
    let gone = false;
    const asked: string[] = [];
    const c = new StreamRegistry({ store: sb, logger: log, reconnectGraceMs: 60_000, nodeId: 'node-c', leaseMs: LEASE_MS, now: clock, isNodeGone: async (id) => { asked.push(id); return gone; } });
    const refused = await c.authorizePublish('key-1', publisher('p2'));
    t.match(refused, { ok: false, code: 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING' }, 'A is in the cluster: refused');
    t.same(asked, ['node-a'], 'the holder was asked about');
    t.match(await c.checkPublish('key-1', { remoteAddress: '127.0.0.1', protocol: 'webrtc' }), { ok: false });
    // A's heartbeat expired (kill -9): its lease has not.
    gone = true;
    t.match(await c.checkPublish('key-1', { remoteAddress: '127.0.0.1', protocol: 'webrtc' }), { ok: true, streamId: 's1' });
    const got = await c.authorizePublish('key-1', publisher('p3'));
    t.ok(got.ok, 'taken over at once');
    t.match(await sa.getStream('s1'), { state: 'live', lease: { nodeId: 'node-c' } });
    // Were A still alive, its next renewal would find the stream lost and end its copy.
    await a.renewLeases();
    t.equal(a.get('s1')?.state, 'ended', 'A ends its copy');
    t.match(await sa.getStream('s1'), { state: 'live', lease: { nodeId: 'node-c' } }, 'without ending C\'s');
  });

  t.test(`${name}: a restarted node restores its own interrupted streams only, from its own start`, async (t) => {
    const { a, b, sa, clock, advance } = await twoNodes(t, open);
    await sa.createStream(stream('s2', { streamKeyHash: hashSecret('key-2') }));
    t.ok((await a.authorizePublish('key-1', publisher('p1'))).ok);
    t.ok((await b.authorizePublish('key-2', publisher('p2'))).ok);
    // Both nodes stop for a deploy: each interrupts its own stream.
    a.interruptAll('deploy');
    b.interruptAll('deploy');
    await a.flush();
    await b.flush();
    t.match(await sa.getStream('s1'), { state: 'interrupted', lease: { nodeId: 'node-a' } });
    t.match(await sa.getStream('s2'), { state: 'interrupted', lease: { nodeId: 'node-b' } });
    advance(5000);
    const prepared: string[] = [];
    const a2 = new StreamRegistry({ store: sa, logger: log, reconnectGraceMs: 60_000, nodeId: 'node-a', leaseMs: LEASE_MS, now: clock, prepareContinue: async (rec) => void prepared.push(rec.id) });
    t.same((await a2.restoreInterrupted()).map((r) => r.id), ['s1'], 'A\'s restart restores s1, not B\'s s2');
    t.same(prepared, ['s1']);
    t.equal(a2.get('s1')?.state, 'interrupted');
    t.equal(a2.get('s2'), undefined);
    t.match(await sa.getStream('s1'), { lease: { nodeId: 'node-a', expiresAt: clock() } }, 'adopted from its own start (the grace counts from there)');
  });
}

cases(t, 'sqlite', async (t) => {
  const file = join(t.testdir(), 'shared.db');
  return async () => openSqliteStore({ file });
});

const server = await pgCluster(t);
cases(t, 'postgres', async (t) => {
  const url = await freshDatabase(t, server);
  return () => openPgStore({ url });
});
