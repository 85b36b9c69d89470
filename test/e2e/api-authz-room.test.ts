// The authorization matrix (as in api-authz.test.ts) over the room's routes (issue 14), on a
// server of its own: each file's wrong-token calls stay under the per-address failure limit.
import t from 'tap';
import { startServer, ADMIN } from '../helpers/server.js';
import { aliceAndBob, checkMatrix, matrixTokens, type MatrixRoute } from '../helpers/creator-fixtures.js';

const srv = await startServer({ room: { shopperCreatesPerMinute: 100 } });
t.teardown(() => srv.close());

const fx = await aliceAndBob(srv, 'Alice live');
const { cid, stream: id } = fx;
const tokens = await matrixTokens(srv, fx);
const fresh = async (): Promise<string> => (await srv.api('POST', '/v1/shoppers', { displayName: 'Fresh' }, null)).json.id;

t.test('authorization matrix over the room\'s routes', async (t) => {
  const msg = { id: '', n: 0 };
  const routes: MatrixRoute[] = [
    { name: 'POST /v1/streams/:id/room/bans', call: async (k) => srv.api('POST', `/v1/streams/${id}/room/bans`, { shopperId: await fresh(), minutes: 5 }, k),
      expect: { none: 401, wrong: 401, shopper: 403, other: 404, owner: 201, operator: 201 } },
    { name: 'GET /v1/streams/:id/room/bans', call: (k) => srv.api('GET', `/v1/streams/${id}/room/bans`, undefined, k),
      expect: { none: 401, wrong: 401, shopper: 403, other: 404, owner: 200, operator: 200 } },
    { name: 'DELETE /v1/streams/:id/room/bans/:shopperId', call: async (k) => {
      const sh = await fresh();
      await srv.api('POST', `/v1/streams/${id}/room/bans`, { shopperId: sh }, ADMIN);
      return srv.api('DELETE', `/v1/streams/${id}/room/bans/${sh}`, undefined, k);
    }, expect: { none: 401, wrong: 401, shopper: 403, other: 404, owner: 204, operator: 204 } },
    { name: 'PATCH /v1/streams/:id/room', call: (k) => srv.api('PATCH', `/v1/streams/${id}/room`, { slowModeSeconds: 5 }, k),
      expect: { none: 401, wrong: 401, shopper: 403, other: 404, owner: 200, operator: 200 } },
    { name: 'GET /v1/creators/:id/room/blocked-words', call: (k) => srv.api('GET', `/v1/creators/${cid}/room/blocked-words`, undefined, k),
      expect: { none: 401, wrong: 401, shopper: 403, other: 404, owner: 200, operator: 200 } },
    { name: 'PUT /v1/creators/:id/room/blocked-words', call: (k) => srv.api('PUT', `/v1/creators/${cid}/room/blocked-words`, { words: ['spam'] }, k),
      expect: { none: 401, wrong: 401, shopper: 403, other: 404, owner: 200, operator: 200 } },
    // Each call deletes a fresh message the host wrote straight into the store.
    { name: 'DELETE /v1/streams/:id/room/messages/:mid', call: async (k) => {
      msg.id = `m_authz_${++msg.n}`;
      await srv.app.store.addRoomMessage({ id: msg.id, streamId: id, authorId: cid, authorRole: 'host', authorName: 'Alice', text: 'x', at: Date.now(), mediaTime: Date.now() + msg.n, deletedAt: null });
      return srv.api('DELETE', `/v1/streams/${id}/room/messages/${msg.id}`, undefined, k);
    }, expect: { none: 401, wrong: 401, shopper: 403, other: 404, owner: 204, operator: 204 } },
    // Replays are public: no token needed, none checked.
    { name: 'GET /v1/streams/:id/room/messages', call: (k) => srv.api('GET', `/v1/streams/${id}/room/messages`, undefined, k),
      expect: { none: 200, wrong: 200, shopper: 200, other: 200, owner: 200, operator: 200 } },
  ];
  await checkMatrix(t, tokens, routes);
});
