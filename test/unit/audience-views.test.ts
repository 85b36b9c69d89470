// The API's viewer figures (src/cluster/audience-views.ts): on a single node this node's ticker
// and room, untouched by the cluster; clustered, the summed totals (after a read of the shares).
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { streamViewers, watchingNow } from '../../src/cluster/audience-views.js';
import { ViewerSessionTable } from '../../src/metrics/session-table.js';
import { WatchTicker } from '../../src/metrics/watch-ticker.js';

t.test('a single node: its own ticker and room', async (t) => {
  const table = new ViewerSessionTable();
  const ticker = new WatchTicker({ table });
  ticker.markLive('s');
  table.issue('s', 'hls', 'live');
  table.issue('s', 'hls', 'replay');
  table.open('s', 'live');
  ticker.tick();
  const app = { hasDecorator: (n: string) => n === 'room', ticker, room: { viewers: (id: string) => (id === 's' ? 4 : 0) } } as unknown as FastifyInstance;
  const v = await streamViewers(app, 's');
  t.same(v, { watching: 3, room: 4, sessions: { hls: { live: 1, replay: 1 }, webrtc: { live: 1, replay: 0 } } });
  t.equal(watchingNow(app, 's'), 3);
  t.same(await streamViewers(app, 'other'), { watching: 0, room: 0, sessions: { hls: { live: 0, replay: 0 }, webrtc: { live: 0, replay: 0 } } }, 'nothing known: zeros');
});

t.test('clustered: the shares are read, then summed', async (t) => {
  const asked: string[][] = [];
  const audience = {
    refresh: async (ids: string[]) => void asked.push(ids),
    totals: () => ({ sessions: [5, 1, 2, 0], watching: 8, room: 7, nodes: 3 }),
  };
  const app = { hasDecorator: (n: string) => n === 'cluster', cluster: { audience } } as unknown as FastifyInstance;
  t.same(await streamViewers(app, 's'), { watching: 8, room: 7, sessions: { hls: { live: 5, replay: 2 }, webrtc: { live: 1, replay: 0 } } });
  t.same(asked, [['s']], 'read once before summing');
  t.equal(watchingNow(app, 's'), 8, 'without waiting: the last tick\'s sums');
});
