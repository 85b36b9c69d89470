// Followers' go-live notifications (issue 15), end to end in one server: shoppers follow a creator
// and register their browsers' push subscriptions; a real RTMP publish takes the stream live and a
// local push service decrypts each message with the subscription's own keys (aes128gcm, RFC 8291,
// decrypted in test/helpers/push-receiver.ts with node:crypto) and verifies the VAPID JWT against
// GET /v1/push/vapid-public-key; a 410 deletes the subscription; a practice stream notifies
// nobody; an OBS reconnect within the grace does not notify again; webhooks carry stream.live,
// stream.ended, recording.ready (not the practice stream's), follower.added and conversion.created, signed.
import t from 'tap';
import { startServer, waitFor, logsOnFailure } from '../helpers/server.js';
import { publishRtmp } from '../helpers/ffmpeg.js';
import { startPushReceiver, decryptPush, verifyVapid, type BrowserSubscription } from '../helpers/push-receiver.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';
import { generateSecret } from '../../src/journey/notify/webhook-signature.js';

const push = await startPushReceiver();
const secret = generateSecret();
const hooks = await startWebhookReceiver(secret);
const srv = await startServer({
  streams: { reconnectGraceMs: 15_000 },
  recording: { minFreeBytes: 0 },
  push: { allowLocalEndpoints: true, maxSubscriptionsPerShopper: 2 },
  webhooks: { endpoints: [{ url: hooks.url, secret }], pollMs: 100, retryBaseMs: 100 },
});
t.teardown(async () => {
  await srv.close();
  await push.close();
  await hooks.close();
});

async function newShopper(name: string): Promise<{ id: string; token: string }> {
  const r = await srv.api('POST', '/v1/shoppers', { displayName: name }, null);
  if (r.status !== 201) throw new Error(`shopper: ${r.status} ${JSON.stringify(r.json)}`);
  return { id: r.json.id, token: r.json.token };
}

const creator = (await srv.api('POST', '/v1/creators', { handle: 'notify_host', displayName: 'Nora' })).json as { id: string; token: string };
const alice = await newShopper('Alice');
const bob = await newShopper('Bob');
const carol = await newShopper('Carol'); // follows nobody: hears nothing
const subs: Record<string, BrowserSubscription> = { alice: push.subscription('alice'), bob: push.subscription('bob-gone'), carol: push.subscription('carol') };
push.answer('bob-gone', 410);

t.test('push subscriptions: validated, bounded per shopper, listed and deleted', async (t) => {
  const url = '/v1/shoppers/me/push-subscriptions';
  t.equal((await srv.api('POST', url, subs.alice!.json, null)).status, 401, 'anonymous');
  t.equal((await srv.api('POST', url, subs.alice!.json, creator.token)).status, 403, 'a creator is not a shopper');
  const bad = await srv.api('POST', url, { ...subs.alice!.json, keys: { ...subs.alice!.json.keys, p256dh: Buffer.alloc(65, 7).toString('base64url') } }, alice.token);
  t.equal(bad.status, 400);
  t.equal(bad.json.error.code, 'SHOWCASE_ERR_PUSH_SUBSCRIPTION_INVALID', 'a p256dh off the curve');
  const shortAuth = await srv.api('POST', url, { ...subs.alice!.json, keys: { ...subs.alice!.json.keys, auth: 'AAAA' } }, alice.token);
  t.equal(shortAuth.json.error.code, 'SHOWCASE_ERR_PUSH_SUBSCRIPTION_INVALID', 'auth not 16 bytes');
  t.equal((await srv.api('POST', url, { ...subs.alice!.json, endpoint: 'ftp://x/y' }, alice.token)).json.error.code, 'SHOWCASE_ERR_PUSH_SUBSCRIPTION_INVALID');

  const a = await srv.api('POST', url, subs.alice!.json, alice.token);
  t.equal(a.status, 201);
  t.match(a.json, { id: /^ps_/, endpoint: subs.alice!.json.endpoint });
  t.equal((await srv.api('POST', url, subs.alice!.json, alice.token)).status, 200, 'the same browser again is the same subscription');
  const extra1 = await srv.api('POST', url, push.subscription('alice-2').json, alice.token);
  t.equal(extra1.status, 201);
  const over = await srv.api('POST', url, push.subscription('alice-3').json, alice.token);
  t.equal(over.status, 409);
  t.equal(over.json.error.code, 'SHOWCASE_ERR_PUSH_SUBSCRIPTION_LIMIT');
  const list = await srv.api('GET', url, undefined, alice.token);
  t.same(list.json.items.map((s: { id: string }) => s.id), [a.json.id, extra1.json.id]);
  t.equal((await srv.api('DELETE', `${url}/${extra1.json.id}`, undefined, bob.token)).status, 404, 'not bob\'s');
  t.equal((await srv.api('DELETE', `${url}/${extra1.json.id}`, undefined, alice.token)).status, 204);
  t.equal((await srv.api('GET', url, undefined, alice.token)).json.items.length, 1);

  t.equal((await srv.api('POST', url, subs.bob!.json, bob.token)).status, 201);
  t.equal((await srv.api('POST', url, subs.carol!.json, carol.token)).status, 201);
  for (const s of [alice, bob]) t.equal((await srv.api('PUT', `/v1/creators/${creator.id}/followers/me`, undefined, s.token)).json.added, true);
  await hooks.until((d) => d.filter((x) => x.json.type === 'follower.added').length >= 2, 'two follower.added webhooks');
  const follows = hooks.deliveries.filter((x) => x.json.type === 'follower.added');
  t.ok(follows.every((d) => d.signatureValid), 'signed');
  t.same(follows.map((d) => d.json.data.shopperId).sort(), [alice.id, bob.id].sort());
});

t.test('a practice stream notifies nobody; going live pushes to each follower once, encrypted to its keys, with a valid VAPID JWT', async (t) => {
  logsOnFailure(t, srv);
  const vapid = (await srv.api('GET', '/v1/push/vapid-public-key', undefined, null)).json.publicKey as string;
  const practice = (await srv.api('POST', '/v1/streams', { title: 'Rehearsal', practice: true }, creator.token)).json as { id: string; streamKey: string };
  const show = (await srv.api('POST', '/v1/streams', { title: 'Spring sale' }, creator.token)).json as { id: string; streamKey: string };

  const rehearsal = publishRtmp(`${srv.rtmp}/${practice.streamKey}`, 6);
  t.teardown(() => void rehearsal.kill('SIGKILL'));
  await waitFor(async () => ((await srv.api('GET', `/v1/streams/${practice.id}`)).json.state === 'live' ? true : undefined), 'practice stream live', 20_000);

  const pub = publishRtmp(`${srv.rtmp}/${show.streamKey}`, 60);
  t.teardown(() => void pub.kill('SIGKILL'));
  const msg = await push.next('alice', () => true, 30_000);
  t.equal(msg.headers['content-encoding'], 'aes128gcm');
  t.ok(Number(msg.headers.ttl) > 0, 'a TTL header');
  const claims = verifyVapid(msg.headers.authorization, vapid, push.base);
  t.equal(claims.aud, push.base, 'aud is the push service origin');
  const body = JSON.parse(decryptPush(subs.alice!, msg.body)) as Record<string, string>;
  t.same(body, { type: 'stream.live', title: 'Nora is live', body: 'Spring sale', url: `/watch/${show.id}`, streamId: show.id, tag: `live-${show.id}` });

  // The 410 answer deletes bob's subscription.
  await push.next('bob-gone', () => true);
  await waitFor(async () => ((await srv.api('GET', '/v1/shoppers/me/push-subscriptions', undefined, bob.token)).json.items.length === 0 ? true : undefined), 'the gone subscription deleted');
  t.pass('a 410 deleted the subscription');
  t.throws(() => decryptPush(subs.carol!, msg.body), 'another browser\'s keys do not open it');

  await hooks.until((d) => d.some((x) => x.json.type === 'stream.live' && x.json.data.streamId === show.id), 'stream.live webhook');
  const live = hooks.deliveries.find((x) => x.json.type === 'stream.live')!;
  t.ok(live.signatureValid);
  t.match(live.json.data, { streamId: show.id, creatorId: creator.id, title: 'Spring sale', watchUrl: `/watch/${show.id}` });

  // OBS drops (killed: no unpublish) and reconnects within the grace: the same show, no second notification.
  pub.kill('SIGKILL');
  await pub.done;
  await waitFor(async () => ((await srv.api('GET', `/v1/streams/${show.id}`)).json.state === 'live' ? true : undefined), 'still live in the grace');
  const again = publishRtmp(`${srv.rtmp}/${show.streamKey}`, 4);
  t.teardown(() => void again.kill('SIGKILL'));
  // A conversion while live, then the stream ends when the second publish finishes cleanly.
  const sale = await srv.api('POST', '/v1/conversions', { orderId: 'order-1', streamId: show.id, amount: '19.99', currency: 'EUR' });
  t.equal(sale.status, 201);
  await again.done;
  await waitFor(async () => ((await srv.api('GET', `/v1/streams/${show.id}`)).json.state === 'ended' ? true : undefined), 'show ended', 20_000);
  await rehearsal.done;
  await waitFor(async () => ((await srv.api('GET', `/v1/streams/${practice.id}`)).json.state === 'ended' ? true : undefined), 'rehearsal ended', 20_000);
  await hooks.until((d) => d.some((x) => x.json.type === 'stream.ended' && x.json.data.streamId === show.id) && d.some((x) => x.json.type === 'conversion.created'), 'stream.ended and conversion.created');
  // Both recordings finalize; only the public one is announced.
  await waitFor(async () => ((await srv.api('GET', `/v1/streams/${practice.id}/recording`)).json?.state === 'ready' ? true : undefined), 'the practice recording ready', 30_000);
  await hooks.until((d) => d.some((x) => x.json.type === 'recording.ready' && x.json.data.streamId === show.id), 'recording.ready', 30_000);
  t.match(hooks.deliveries.find((x) => x.json.type === 'recording.ready')!.json.data, { streamId: show.id, creatorId: creator.id, replayUrl: `/hls/${show.id}/master.m3u8` });
  // Everything written is handled: nothing is pending in the outbox.
  await waitFor(async () => ((await srv.app.store.outboxCounts()).pending === 0 ? true : undefined), 'the outbox drained');

  t.equal(push.received.filter((m) => m.name === 'alice').length, 1, 'one push for the go-live, none for the reconnect or the practice stream');
  t.equal(push.received.filter((m) => m.name === 'carol').length, 0, 'a shopper who follows nobody hears nothing');
  const byType = (type: string, id: string) => hooks.deliveries.filter((x) => x.json.type === type && x.json.data.streamId === id && x.status === 200);
  t.equal(byType('stream.live', show.id).length, 1, 'stream.live once');
  t.equal(byType('stream.ended', show.id).length, 1, 'stream.ended once');
  t.same(hooks.deliveries.filter((x) => x.json.data.streamId === practice.id), [], 'no webhook of any type for the practice stream');
  const conv = hooks.deliveries.find((x) => x.json.type === 'conversion.created')!;
  t.match(conv.json.data, { orderId: 'order-1', streamId: show.id, creatorId: creator.id, currency: 'EUR', amountUnits: 199_900 });
  t.ok(hooks.deliveries.every((d) => d.signatureValid), 'every delivery signed');
  t.equal(new Set(hooks.deliveries.map((d) => d.id)).size, hooks.deliveries.length, 'each event its own webhook-id');
});
