// The durable outbox survives kill -9 (issue 15): the server runs as a real process
// (dist/src/main.js); 1,000 conversions each make a conversion.created webhook; the receiver
// answers 503 until every one of them has been tried at least once, so all 1,000 are pending
// (some leased, some waiting to retry) when the process is SIGKILLed. After a restart on the same
// data dir the receiver answers 200 and every event arrives: each webhook-id at least once, with
// the same id and body as before the crash, every signature valid, none lost.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { freePort } from '../helpers/free-port.js';
import { startWebhookReceiver, type Delivery } from '../helpers/webhook-receiver.js';
import { generateSecret } from '../../src/journey/notify/webhook-signature.js';

const EVENTS = 1000;
const ADMIN = 'crash-admin-token';
const secret = generateSecret();
const hooks = await startWebhookReceiver(secret);
hooks.answer(503);
const dataDir = mkdtempSync(join(tmpdir(), 'showcase-outbox-crash-'));
const port = await freePort();
const config = {
  dataDir, adminToken: ADMIN, logLevel: 'warn',
  http: { host: '127.0.0.1', port }, rtmp: { host: '127.0.0.1', port: 0 },
  webrtc: { enabled: false }, recording: { enabled: false },
  webhooks: { endpoints: [{ url: hooks.url, secret }], concurrency: 16, pollMs: 100, retryBaseMs: 100, retryMaxDelayMs: 1000, leaseMs: 30_000 },
};
let node: NodeProcess | undefined;
t.teardown(async () => {
  await node?.stop();
  await hooks.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const orderOf = (d: Delivery): string => String(d.json.data.orderId);

t.test('kill -9 with 1,000 deliveries pending: after the restart every event arrives, same webhook-ids', async (t) => {
  node = await startNodeProcess({ id: 'outbox1', address: '127.0.0.1', port, config });
  t.teardown(() => {
    if (!t.passing()) t.comment(node?.log().slice(-3000));
  });
  const stream = await api('POST', '/v1/streams', { title: 'Crash sale' });
  t.equal(stream.status, 201);
  const orders = Array.from({ length: EVENTS }, (_, i) => `crash-${String(i).padStart(4, '0')}`);
  // Eight requests at a time: each is answered once its outbox row is written.
  for (let i = 0; i < orders.length; i += 8) {
    const rs = await Promise.all(orders.slice(i, i + 8).map((orderId) => api('POST', '/v1/conversions', { orderId, streamId: stream.json.id, amount: '1.00', currency: 'USD' })));
    for (const r of rs) if (r.status !== 201) throw new Error(`conversion: ${r.status} ${JSON.stringify(r.json)}`);
  }
  await hooks.until((all) => new Set(all.map(orderOf)).size === EVENTS, 'every event tried once (answered 503)', 60_000);
  const before = [...hooks.deliveries];
  t.ok(before.every((d) => d.status === 503), 'nothing was delivered before the crash');

  await node.kill();
  const idOf = new Map<string, string>();
  const bodyOf = new Map<string, string>();
  let changedIds = 0;
  for (const d of before) {
    if (idOf.has(orderOf(d)) && idOf.get(orderOf(d)) !== d.id) changedIds++;
    idOf.set(orderOf(d), d.id);
    bodyOf.set(d.id, d.body);
  }
  t.equal(changedIds, 0, `each retry carries its event's webhook-id (${before.length - EVENTS} retries before the crash)`);
  t.equal(new Set(idOf.values()).size, EVENTS, 'one webhook-id per event');

  hooks.answer(200);
  const crashAt = hooks.deliveries.length;
  node = await startNodeProcess({ id: 'outbox2', address: '127.0.0.1', port, config });
  await hooks.until((all) => new Set(all.slice(crashAt).filter((d) => d.status === 200).map((d) => d.id)).size >= EVENTS, 'every event delivered after the restart', 90_000);
  const after = hooks.deliveries.slice(crashAt);
  const delivered = new Set(after.filter((d) => d.status === 200).map((d) => d.id));
  t.same([...delivered].sort(), [...idOf.values()].sort(), 'each webhook-id of before the crash delivered after it, and no other');
  t.ok(after.every((d) => bodyOf.get(d.id) === d.body), 'the same body as before the crash');
  t.ok(hooks.deliveries.every((d) => d.signatureValid), 'every attempt signed');
  t.same(new Set(after.map(orderOf)).size, EVENTS, 'all 1,000 orders');
  t.comment(`${before.length} attempts before the crash, ${after.length} after (${after.length - delivered.size} repeats)`);
});
