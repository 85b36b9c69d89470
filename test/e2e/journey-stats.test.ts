import t from 'tap';
import { startServer } from '../helpers/server.js';

const srv = await startServer();
t.teardown(() => srv.close());

t.test('creator stats: months with minutes, sales, revenue, level and progress; practice never counts', async (t) => {
  const c = await srv.api('POST', '/v1/creators', { handle: 'levelsy', displayName: 'L' });
  const token = c.json.token as string;
  const real = await srv.api('POST', '/v1/streams', { title: 'real' }, token);
  const practice = await srv.api('POST', '/v1/streams', { title: 'rehearsal', practice: true }, token);
  t.equal(real.status, 201);
  t.equal(practice.status, 201);
  // History written straight to the store: a real publish of 300 minutes does not fit a test.
  const now = Date.now();
  const d = new Date(now);
  const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1); // last month: all of it is in the past
  const start = monthStart - 60 * 60_000; // 60 minutes in the previous month, the rest in this one
  for (const [id, mins] of [[real.json.id, 360], [practice.json.id, 5000]] as const) {
    await srv.app.store.updateStream(id, { state: 'ended', startedAt: start, endedAt: start + mins * 60_000 });
    for (let i = 0; i < 30; i++) {
      await srv.app.store.recordConversion({ orderId: `${id}-${i}`, streamId: id, creatorId: c.json.id, productId: null, promoCode: null, amountUnits: 120_000, currency: 'USD', occurredAt: monthStart + 1000 + i, receivedAt: now });
    }
  }
  const r = await srv.api('GET', `/v1/creators/${c.json.id}/stats`, undefined, token);
  t.equal(r.status, 200);
  const months = r.json.months as Array<Record<string, unknown>>;
  const cur = months[months.length - 2];
  t.match(cur, { minutesStreamed: 300, sales: 30, revenue: { USD: '360.00' }, level: 'insider', progress: { nextLevel: 'a-list', minutesNeeded: 700, salesNeeded: 0 } },
    'only the real stream counts: the practice stream\'s 5,000 minutes and 30 sales would make A-List');
  t.match(months[months.length - 3], { minutesStreamed: 60, sales: 0, level: 'rising-star' }, 'the minutes before midnight of the 1st count in the month before');
  t.match(months[months.length - 1], { minutesStreamed: 0, sales: 0, level: 'insider' }, 'last month\'s level holds through this one');
  t.equal(r.json.level, 'insider');
  t.equal(Object.values(r.json.minutesStreamedByMonth as Record<string, number>).reduce((a, b) => a + b, 0), 360, 'minutesStreamedByMonth kept, without practice');
  const other = await srv.api('POST', '/v1/creators', { handle: 'othery', displayName: 'O' });
  t.equal((await srv.api('GET', `/v1/creators/${c.json.id}/stats`, undefined, other.json.token)).status, 404, 'another creator gets 404');
});
