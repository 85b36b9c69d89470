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

t.test('SHOWCASE_WEBHOOK_ENDPOINTS gives the endpoints as JSON; bad JSON or a bad endpoint is refused', async (t) => {
  const secret = generateSecret();
  const c = loadConfig({ env: { SHOWCASE_WEBHOOK_ENDPOINTS: JSON.stringify([{ url: 'http://127.0.0.1:9/hook', secret }]) } });
  t.equal(c.webhooks.endpoints.length, 1);
  t.equal(c.webhooks.endpoints[0]!.url, 'http://127.0.0.1:9/hook');
  t.throws(() => loadConfig({ env: { SHOWCASE_WEBHOOK_ENDPOINTS: '[{' } }), /SHOWCASE_WEBHOOK_ENDPOINTS must be JSON/);
  t.throws(() => loadConfig({ env: { SHOWCASE_WEBHOOK_ENDPOINTS: JSON.stringify([{ url: 'http://x/', secret: 'plain' }]) } }));
});
