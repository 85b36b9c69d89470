import t from 'tap';
import { loadConfig } from '../../src/config/load-config.js';
import { generateSecret } from '../../src/journey/notify/webhook-signature.js';

t.test('webhooks default to no endpoints', async (t) => {
  const c = loadConfig({ env: {} });
  t.same(c.webhooks.endpoints, []);
  t.equal(c.webhooks.concurrency, 16);
});

t.test('an endpoint with a whsec_ secret and an event filter loads; a bad one is refused', async (t) => {
  const secret = generateSecret();
  const c = loadConfig({ env: {}, overrides: { webhooks: { endpoints: [{ url: 'http://127.0.0.1:9/hook', secret, events: ['stream.live'] }] } } });
  t.equal(c.webhooks.endpoints[0]!.secret, secret);
  t.throws(() => loadConfig({ env: {}, overrides: { webhooks: { endpoints: [{ url: 'http://127.0.0.1:9/', secret: 'plain' }] } } }), /secret|pattern|match/i);
  t.throws(() => loadConfig({ env: {}, overrides: { webhooks: { endpoints: [{ url: 'ftp://x/', secret }] } } }));
  t.throws(() => loadConfig({ env: {}, overrides: { webhooks: { endpoints: [{ url: 'http://x/', secret, events: ['stream.bogus' as 'stream.live'] }] } } }));
});
