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

t.test('placement reads past the newest liveListLimit: an earlier A-List stream still comes first', async (t) => {
  const small = await startServer({ journey: { liveListLimit: 2 } });
  t.teardown(() => small.close());
  const make = async (handle: string): Promise<{ id: string; token: string }> => (await small.api('POST', '/v1/creators', { handle, displayName: handle })).json;
  const star = await make('early_star');
  const d = new Date();
  const lastMonth = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 2);
  const hist = (await small.api('POST', '/v1/streams', { title: 'h' }, star.token)).json.id as string;
  await small.app.store.updateStream(hist, { state: 'ended', startedAt: lastMonth, endedAt: lastMonth + 1000 * 60_000 });
  for (let i = 0; i < 25; i++) await small.api('POST', '/v1/conversions', { orderId: `early-${i}`, streamId: hist, amount: '1.00', currency: 'USD', occurredAt: new Date(lastMonth + 60_000).toISOString() });
  const live = async (token: string, startedAt: number): Promise<string> => {
    const id = (await small.api('POST', '/v1/streams', { title: 'x' }, token)).json.id as string;
    await small.app.store.claimLive(id, { nodeId: 'seed-node', now: Date.now(), expiresAt: Date.now() + 3_600_000, startedAt });
    return id;
  };
  const early = await live(star.token, Date.now() - 3_600_000);
  const others = [];
  for (let i = 0; i < 3; i++) others.push(await live((await make(`later_${i}`)).token, Date.now() - i * 1000));
  const r = await small.api('GET', '/v1/live', undefined, null);
  t.equal(r.json.live.length, 2, 'still at most liveListLimit');
  t.equal(r.json.live[0].id, early, 'the A-List stream that started first is not cut by the newest-first read');
  t.equal(r.json.featured.id, early);
});
