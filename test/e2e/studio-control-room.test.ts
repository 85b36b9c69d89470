// The studio's control room (issues 13 and 14) in Debian's Chromium at phone size (390x844), while
// a real ffmpeg publishes over RTMP (OBS's place: the page opens no camera): the creator taps
// highlight A, then B, then End and the API holds both highlights, ended (and one made through the
// API shows by the events feed); creates a promo and puts it on screen and takes it off (and one
// put on through the API shows); sees a shopper's chat message from a real room socket rendered as
// text (never HTML), speaks as the host, deletes the message (the shopper's socket gets
// chat.deleted), times the shopper out (their next chat is SHOWCASE_ERR_ROOM_BANNED), lifts it,
// times them out of all the creator's streams; sets slow mode and closes the room (another
// shopper's chat is refused with each code); saves blocked words (refused too); sees the reaction
// tally; edits a product in place; sees a click count rise after a GET /go, a purchase after a
// conversion, a promo's reveal and redemption; turns the shoppers' "N sold" off and on; and sees
// the OBS details (server, key prefix, what the server receives) and makes a new stream key.
import t from 'tap';
import { chromium, type Page } from 'playwright-core';
import { startServer, waitFor, logsOnFailure } from '../helpers/server.js';
import { CHROMIUM, CAMERA_ARGS, webrtcSkip } from '../helpers/chromium.js';
import { publishRtmp } from '../helpers/ffmpeg.js';
import { openRoom, type RoomClient } from '../helpers/room-client.js';
import { ensureWebBuilt } from '../helpers/web-build.js';

ensureWebBuilt();
const skip = webrtcSkip();

interface RoomHook {
  productIds: string[];
  highlight: { id: string; productId: string } | null;
  error: string | null;
  counts: {
    state: string | null; clicks: number; purchases: number; byProduct: Record<string, { clicks: number; purchases: number }>;
    promos: Record<string, { reveals: number; redemptions: number }>; room: { messages: number; reactions: number }; showSoldCounts: boolean | null; reads: number; error: string | null;
  };
  promos: { codes: string[]; onScreen: string | null; error: string | null };
  room: { authed: boolean; shown: string[]; settings: { slowModeSeconds: number; open: boolean } | null; reactions: Record<string, number>; viewers: number | null; timedOut: string[]; errors: string[]; error: string | null };
  blockedWords: { words: string[]; error: string | null };
  stream: { title: string | null; state: string } | null;
  obs: { rtmpUrl: string | null; keyPrefix: string | null; newKey: string | null; receiving: { protocol: string; bitsPerSecond: number; framesPerSecond: number; keyframeIntervalSeconds: number; transcoder: string } | null; error: string | null };
}
const hook = (page: Page): Promise<RoomHook> => page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { __studio: { controlRoom: RoomHook } }).__studio.controlRoom)) as RoomHook);
/** Polls the page's hook until pred holds (the page's CSP forbids the eval waitForFunction needs). */
const until = (page: Page, pred: (h: RoomHook) => boolean, what: string, timeoutMs = 10_000): Promise<RoomHook> =>
  waitFor(async () => { const h = await hook(page); return h && pred(h) ? h : undefined; }, what, timeoutMs, 50);

t.test('the control room: highlight, promo on screen, chat moderation, slow mode, live counts', { skip }, async (t) => {
  t.setTimeout(180_000);
  // The studio page is served only with WebRTC on (it needs the signaling socket); a fast room tick.
  const srv = await startServer({
    webrtc: { enabled: true, workers: 1, listenIp: '127.0.0.1', rtcMinPort: 49000, rtcMaxPort: 49499, bridgeMinPort: 36000, bridgeMaxPort: 36499 },
    room: { tickMs: 100, countsFlushMs: 500 },
  });
  t.teardown(() => srv.close());
  logsOnFailure(t, srv);
  const made = await srv.api('POST', '/v1/creators', { handle: 'host', displayName: 'Hosty' });
  const token: string = made.json.token;
  const created = await srv.api('POST', '/v1/streams', { title: 'Mugs live' }, token);
  const { id, streamKey } = created.json as { id: string; streamKey: string };
  const mk = async (title: string): Promise<string> => (await srv.api('POST', `/v1/streams/${id}/products`, { title, url: `${srv.base}/healthz?p=${title}` }, token)).json.id;
  const A = await mk('Blue mug');
  const B = await mk('Red mug');
  const C = await mk('Teapot');

  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 120);
  t.teardown(() => { pub.kill('SIGKILL'); });
  await waitFor(async () => (await srv.api('GET', `/v1/streams/${id}`)).json.state === 'live', 'the RTMP publish live', 30_000);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CAMERA_ARGS });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  page.on('pageerror', (err) => t.fail(`studio page error: ${err.message}`));
  // The room socket, the events feed and the API calls all pass the page's Content-Security-Policy.
  page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) t.fail(`CSP: ${m.text()}`); });
  const res = await page.goto(`${srv.base}/studio?stream=${id}#token=${encodeURIComponent(token)}`);
  t.match(res?.headers()['content-security-policy'], `ws://127.0.0.1:${new URL(srv.base).port}/v1/streams/`, 'the CSP names the room sockets\' path');
  const ready = await until(page, (h) => h.productIds.length === 3 && h.room.authed && h.counts.state === 'live' && h.room.settings !== null, 'the control room loaded, live, the room authenticated as the host');
  t.same(ready.productIds, [A, B, C], 'the carousel in order');
  t.same(ready.stream, { title: 'Mugs live', state: 'live' }, 'the header: title and state');
  t.equal(await page.textContent('#stream-state'), 'live');
  t.equal(await page.getAttribute('#watch-link', 'href'), `/watch/${id}`);
  t.notOk(await page.locator('#preview').isVisible(), 'no camera preview: OBS is the camera');
  t.equal(await page.evaluate(() => (document.querySelector('#preview') as HTMLVideoElement).srcObject), null, 'the camera was never opened');
  t.notOk(await page.locator('#add-product').isVisible(), 'the add-product form is folded: the carousel has products');
  t.ok(await page.locator('#add-promo').isVisible(), 'the new-promo form is open: there is no promo yet');

  // The OBS panel: the server to paste, the key's prefix, what the server receives from ffmpeg.
  const obs = await until(page, (h) => (h.obs.receiving?.framesPerSecond ?? 0) > 0, 'what the server receives', 15_000);
  t.equal(obs.obs.rtmpUrl, srv.rtmp, 'the RTMP server URL to paste');
  t.equal(obs.obs.keyPrefix, streamKey.slice(0, 7), 'the key\'s prefix');
  t.equal(obs.obs.receiving!.protocol, 'rtmp');
  t.match(await page.textContent('#obs-receiving'), /^Receiving RTMP · [0-9.]+ Mbit\/s · \d+ fps · keyframe every [0-9.]+ s · transcoder /);
  t.notMatch(await page.textContent('#panel-obs'), streamKey, 'the full key is never shown');

  // Edit a product in place: only what changed is sent; the row and the API follow.
  await page.click(`#carousel-items li[data-product-id="${C}"] button.edit`);
  t.equal(await page.inputValue('#add-product input[name=title]'), 'Teapot', 'the form holds the product');
  await page.fill('#add-product input[name=title]', 'Teapot, blue');
  await page.fill('#add-product input[name=price]', '24.50');
  await page.fill('#add-product input[name=currency]', 'EUR');
  await page.click('#add-product button[type=submit]');
  await waitFor(async () => (await page.textContent(`#carousel-items li[data-product-id="${C}"] .product-title`)) === 'Teapot, blue', 'the row renamed');
  const edited = (await srv.api('GET', `/v1/streams/${id}/products`, undefined, token)).json.items.find((p: { id: string }) => p.id === C);
  t.match(edited, { title: 'Teapot, blue', price: { amount: '24.50', currency: 'EUR' }, url: `${srv.base}/healthz?p=Teapot` }, 'the API holds the edit, the URL untouched');
  t.equal((await hook(page)).productIds.length, 3, 'edited, not added');
  t.equal(await page.textContent('#add-product button[type=submit]'), 'Add product', 'the form is back to adding');

  // 1. Highlight A, then B, then end.
  const tapHighlight = (pid: string): Promise<void> => page.click(`#carousel-items li[data-product-id="${pid}"] button.highlight`);
  await tapHighlight(A);
  await until(page, (h) => h.highlight?.productId === A, 'A highlighted');
  t.match(await page.textContent('#current-highlight'), /Blue mug/, 'the page says A is highlighted');
  t.ok(await page.locator(`#carousel-items li[data-product-id="${A}"].highlighted`).count(), 'A\'s row is marked');
  await tapHighlight(B);
  await until(page, (h) => h.highlight?.productId === B, 'B highlighted');
  t.match(await page.textContent('#current-highlight'), /Red mug/, 'the page says B is highlighted');
  t.equal(await page.locator('#carousel-items li.highlighted').count(), 1, 'one row marked');
  await page.click('#end-highlight');
  await until(page, (h) => h.highlight === null, 'highlight ended');
  t.equal(await page.textContent('#current-highlight'), 'No product highlighted');
  const hs = (await srv.api('GET', `/v1/streams/${id}/highlights`, undefined, token)).json.items as Array<{ productId: string; startDate: string; endDate: string | null }>;
  t.same(hs.map((h) => h.productId), [A, B], 'the API holds A then B');
  t.ok(hs.every((h) => h.endDate !== null), 'both ended');
  t.ok(Date.parse(hs[0]!.endDate!) <= Date.parse(hs[1]!.startDate), 'A ended when B started');
  t.ok(Date.parse(hs[1]!.endDate!) >= Date.parse(hs[1]!.startDate), 'B ended after its start');
  // A highlight made elsewhere (another device, the API) shows through the events feed.
  t.equal((await srv.api('POST', `/v1/streams/${id}/highlights`, { productId: C }, token)).status, 201);
  await until(page, (h) => h.highlight?.productId === C, 'C, highlighted through the API, shown');
  t.match(await page.textContent('#current-highlight'), /Teapot, blue/);
  t.equal((await srv.api('DELETE', `/v1/streams/${id}/highlights/current`, undefined, token)).status, 200);
  await until(page, (h) => h.highlight === null, 'its end shown');

  // 2. A promo: created from the page, on screen, off screen.
  await page.fill('#add-promo input[name=code]', 'LIVE20');
  await page.fill('#add-promo input[name=description]', '20 % off tonight');
  await page.check('#add-promo input[name=liveOnly]');
  await page.click('#add-promo button[type=submit]');
  await until(page, (h) => h.promos.codes.includes('LIVE20'), 'the promo listed');
  await page.click('#promo-items li[data-code="LIVE20"] button.promo-show');
  await until(page, (h) => h.promos.onScreen === 'LIVE20', 'the promo on screen');
  const shown = await srv.api('GET', `/v1/streams/${id}/promos`, undefined, null);
  t.equal(shown.json.onScreen, 'LIVE20', 'the public API says LIVE20 is on screen');
  t.match(shown.json.items, [{ code: 'LIVE20', description: '20 % off tonight', liveOnly: true }], 'created as typed');
  t.match(await page.textContent('#promo-on-screen'), /LIVE20/);
  await page.click('#promo-off');
  await until(page, (h) => h.promos.onScreen === null, 'the promo off screen');
  t.equal((await srv.api('GET', `/v1/streams/${id}/promos`, undefined, null)).json.onScreen, null, 'the API says none is on screen');
  // Put on screen through the API (another device): the studio follows the events feed.
  t.equal((await srv.api('PUT', `/v1/streams/${id}/promos/on-screen`, { code: 'LIVE20' }, token)).status, 200);
  await until(page, (h) => h.promos.onScreen === 'LIVE20', 'the promo on screen again, shown');

  // 3. The room: a shopper's message through a real socket, shown as text.
  const shopper = async (name: string): Promise<{ id: string; token: string; ws: RoomClient }> => {
    const r = await srv.api('POST', '/v1/shoppers', { displayName: name }, null);
    const ws = await openRoom(srv.base, id);
    t.teardown(() => ws.ws.terminate());
    await ws.next((f) => f.type === 'history');
    ws.send({ type: 'auth', token: r.json.token });
    await ws.next((f) => f.type === 'auth.ok');
    return { id: r.json.id, token: r.json.token, ws };
  };
  /** Sends a chat and resolves with its echo or the error it got. */
  const say = async (c: RoomClient, text: string): Promise<any> => {
    const from = c.frames.length;
    c.send({ type: 'chat', text });
    return c.next((f) => (f.type === 'chat' && f.text === text) || f.type === 'error', 5000, from);
  };
  const ana = await shopper('Ana');
  const hostile = '<img src=x onerror="document.title=1">Is the blue mug dishwasher safe?';
  const m1 = await say(ana.ws, hostile);
  t.equal(m1.type, 'chat', 'Ana\'s message posted');
  await until(page, (h) => h.room.shown.includes(m1.id), 'Ana\'s message in the studio');
  t.equal(await page.textContent(`#studio-chat-log li[data-id="${m1.id}"] .chat-text`), hostile, 'shown as text');
  t.equal(await page.locator('#studio-chat-log img').count(), 0, 'no HTML from a message');
  t.equal(await page.textContent(`#studio-chat-log li[data-id="${m1.id}"] .chat-author`), 'Ana');

  // The creator answers as the host.
  const from = ana.ws.frames.length;
  await page.fill('#host-compose input[name=text]', 'Yes, it is!');
  await page.click('#host-compose button[type=submit]');
  const answer = await ana.ws.next((f) => f.type === 'chat' && f.text === 'Yes, it is!', 5000, from);
  t.equal(answer.author.role, 'host', 'the studio speaks as the host');
  t.equal(answer.author.displayName, 'Hosty');
  await until(page, (h) => h.room.shown.includes(answer.id), 'the host\'s message in the studio');
  t.equal(await page.locator(`#studio-chat-log li[data-id="${answer.id}"] button.chat-timeout`).count(), 0, 'no time-out on the host\'s own message');

  // Delete: gone from every socket and from the replay.
  const del = ana.ws.frames.length;
  await page.click(`#studio-chat-log li[data-id="${m1.id}"] button.chat-delete`);
  await ana.ws.next((f) => f.type === 'chat.deleted' && f.id === m1.id, 5000, del);
  t.pass('the shopper\'s socket got chat.deleted');
  await until(page, (h) => !h.room.shown.includes(m1.id), 'the message gone from the studio');
  const replay = (await srv.api('GET', `/v1/streams/${id}/room/messages`, undefined, null)).json.items as Array<{ id: string }>;
  t.notOk(replay.some((m) => m.id === m1.id), 'gone from the replay pages');

  // Time out: Ana's next chat is refused.
  const m2 = await say(ana.ws, 'and the red one?');
  await until(page, (h) => h.room.shown.includes(m2.id), 'Ana\'s second message in the studio');
  const tappedAt = Date.now();
  await page.click(`#studio-chat-log li[data-id="${m2.id}"] button.chat-timeout`);
  await until(page, (h) => h.room.timedOut.includes(ana.id), 'the time-out answered');
  const bans = (await srv.api('GET', `/v1/streams/${id}/room/bans`, undefined, token)).json.items as Array<{ shopperId: string; until: string | null }>;
  const ban = bans.find((b) => b.shopperId === ana.id);
  t.ok(ban, 'the API lists Ana\'s ban');
  const minutes = (Date.parse(ban!.until!) - tappedAt) / 60_000;
  t.ok(minutes > 9.5 && minutes <= 10.1, `a 10-minute time-out by default (${minutes.toFixed(2)} min)`);
  const refused = await say(ana.ws, 'hello?');
  t.equal(refused.code, 'SHOWCASE_ERR_ROOM_BANNED', 'Ana\'s next chat: SHOWCASE_ERR_ROOM_BANNED');
  t.match(await page.textContent(`#room-bans li[data-shopper-id="${ana.id}"]`), /^Ana timed out until/, 'the studio lists her time-out by name');
  await page.click(`#room-bans li[data-shopper-id="${ana.id}"] button.ban-lift`);
  await until(page, (h) => !h.room.timedOut.includes(ana.id), 'the time-out lifted');
  t.equal((await srv.api('GET', `/v1/streams/${id}/room/bans`, undefined, token)).json.items.length, 0, 'no ban left');
  const back = await say(ana.ws, 'thanks for letting me back');
  t.equal(back.type, 'chat', 'after Lift, Ana chats again');
  // A time-out on all the creator's streams.
  await until(page, (h) => h.room.shown.includes(back.id), 'her message in the studio');
  await page.check('#timeout-everywhere');
  await page.click(`#studio-chat-log li[data-id="${back.id}"] button.chat-timeout`);
  await until(page, (h) => h.room.timedOut.includes(ana.id), 'timed out again');
  const wide = (await srv.api('GET', `/v1/streams/${id}/room/bans`, undefined, token)).json.items as Array<{ shopperId: string; scope: string; scopeId: string }>;
  t.match(wide, [{ shopperId: ana.id, scope: 'creator', scopeId: made.json.id }], 'on all the creator\'s streams');
  t.equal((await say(ana.ws, 'hello again?')).code, 'SHOWCASE_ERR_ROOM_BANNED', 'refused again');

  // Slow mode and a closed room, felt by another shopper.
  const ben = await shopper('Ben');
  const room = ben.ws.frames.length;
  await page.selectOption('#slow-mode', '30');
  const slow = await ben.ws.next((f) => f.type === 'room', 5000, room);
  t.same({ slowModeSeconds: slow.slowModeSeconds, open: slow.open }, { slowModeSeconds: 30, open: true }, 'the room frame says slow mode 30 s');
  await until(page, (h) => h.room.settings?.slowModeSeconds === 30, 'the studio shows slow mode');
  t.equal((await say(ben.ws, 'first!')).type, 'chat', 'Ben\'s first message passes');
  t.equal((await say(ben.ws, 'second!')).code, 'SHOWCASE_ERR_ROOM_SLOW_MODE', 'his second within 30 s is refused');
  await page.click('#room-open-toggle');
  await until(page, (h) => h.room.settings?.open === false, 'the studio shows the room closed');
  t.match(await page.textContent('#room-open-state'), /closed/);
  t.equal((await say(ben.ws, 'third!')).code, 'SHOWCASE_ERR_ROOM_CLOSED', 'a closed room refuses him');
  await page.click('#room-open-toggle');
  await until(page, (h) => h.room.settings?.open === true, 'open again');
  // The creator's blocked words, saved from the room panel, hold in this room at once.
  await page.click('#panel-room details.folded:has(#blocked-words) > summary');
  await page.fill('#blocked-words textarea', 'Knock-off\n  cheap  scam ');
  await page.click('#blocked-words button[type=submit]');
  const words = await until(page, (h) => h.blockedWords.words.length === 2, 'the blocked words saved');
  t.same(words.blockedWords.words, ['knock-off', 'cheap scam'], 'the server\'s folded list shown');
  t.same((await srv.api('GET', `/v1/creators/${made.json.id}/room/blocked-words`, undefined, token)).json.words, ['knock-off', 'cheap scam'], 'the API holds them');
  t.equal((await say(ben.ws, 'is this a KNOCK-OFF?')).code, 'SHOWCASE_ERR_ROOM_BLOCKED_WORD', 'a blocked word is refused');

  // The reaction tally: Ben's 3 hearts and 2 fires.
  for (const kind of ['heart', 'heart', 'fire', 'heart', 'fire']) ben.ws.send({ type: 'reaction', kind });
  const tallied = await until(page, (h) => (h.room.reactions.heart ?? 0) >= 3 && (h.room.reactions.fire ?? 0) >= 2, 'the reaction tally');
  t.same(tallied.room.reactions, { heart: 3, fire: 2 }, 'the tally counts each reaction once');
  t.match(await page.textContent('#reaction-tally [data-kind=heart]'), /3/);
  t.ok((tallied.room.viewers ?? 0) >= 3, `the viewer count (${tallied.room.viewers})`);
  // The stream's totals from analytics (stored per minute, flushed every 0.5 s here): the 5
  // reactions, and the 5 messages posted (Ana's 3, the host's, Ben's first; refused ones do not count).
  const totals = await until(page, (h) => h.counts.room.reactions === 5 && h.counts.room.messages === 5, 'the room totals in the counts', 15_000);
  t.same(totals.counts.room, { messages: 5, reactions: 5 });
  t.match(await page.textContent('#counts-room'), /This stream: 5 chat messages · 5 reactions/);

  // 4. Live counts: a click through /go, then a purchase.
  const before = await hook(page);
  t.equal(before.counts.byProduct[A]?.clicks ?? 0, 0, 'no click on A yet');
  const go = await fetch(`${srv.base}/go/${id}/${A}`, { redirect: 'manual' });
  t.equal(go.status, 302, '/go redirects to the shop');
  const clickedAt = Date.now();
  await until(page, (h) => h.counts.byProduct[A]?.clicks === 1, 'the click counted in the studio', 15_000);
  t.comment(`GET /go to the count on the studio: ${Date.now() - clickedAt} ms (analytics polled every 3 s)`);
  t.equal(await page.textContent(`#counts-table tr[data-product-id="${A}"] .clicks`), '1', 'A\'s row shows 1 click');
  const soldAt = Date.now();
  const sale = await srv.api('POST', '/v1/conversions', { orderId: 'o-1', streamId: id, productId: B, amount: '19.99', currency: 'USD' });
  t.equal(sale.status, 201, 'a sale reported');
  await until(page, (h) => h.counts.byProduct[B]?.purchases === 1 && h.counts.purchases === 1, 'the purchase counted in the studio', 15_000);
  t.comment(`POST /v1/conversions to the count on the studio: ${Date.now() - soldAt} ms (read at once on the feed's sold event)`);
  t.equal(await page.textContent(`#counts-table tr[data-product-id="${B}"] .purchases`), '1', 'B\'s row shows 1 sold');
  t.match(await page.textContent('#counts-summary'), /1 click · 1 sold · 19\.99 USD/);
  // A promo's reveals (the watch page's copy beacon) and redemptions (a sale with the code).
  t.equal((await fetch(`${srv.base}/v1/streams/${id}/promos/LIVE20/reveals?sid=viewer-1`, { method: 'POST' })).status, 201, 'a reveal counted');
  t.equal((await srv.api('POST', '/v1/conversions', { orderId: 'o-2', streamId: id, promoCode: 'LIVE20', amount: '5.00', currency: 'USD' })).status, 201);
  const promoCounts = await until(page, (h) => h.counts.promos.LIVE20?.reveals === 1 && h.counts.promos.LIVE20?.redemptions === 1, 'the promo\'s reveal and redemption counted', 15_000);
  t.same(promoCounts.counts.promos, { LIVE20: { reveals: 1, redemptions: 1 } });
  t.match(await page.textContent('#counts-promos'), /LIVE20: 1 copied · 1 redeemed/);

  // The per-stream switch for the "N sold" shoppers see.
  t.equal(promoCounts.counts.showSoldCounts, true, 'sold counts shown by default');
  t.ok(await page.isChecked('#show-sold-counts'));
  await page.uncheck('#show-sold-counts');
  await until(page, (h) => h.counts.showSoldCounts === false, 'sold counts hidden');
  t.equal((await srv.api('GET', `/v1/streams/${id}/commerce`, undefined, token)).json.showSoldCounts, false, 'the API holds showSoldCounts: false');
  await page.check('#show-sold-counts');
  await until(page, (h) => h.counts.showSoldCounts === true, 'sold counts shown again');
  t.equal((await srv.api('GET', `/v1/streams/${id}/commerce`, undefined, token)).json.showSoldCounts, true);
  t.same((await hook(page)).room.errors, [], 'the host\'s socket got no error');

  // A new stream key: two taps; shown once; the API holds its prefix.
  await page.click('#obs-rotate');
  t.match(await page.textContent('#obs-rotate'), /Tap again/, 'the first tap asks for a second');
  t.equal((await hook(page)).obs.newKey, null, 'nothing rotated on one tap');
  await page.click('#obs-rotate');
  const rotated = await until(page, (h) => h.obs.newKey !== null, 'a new key');
  t.match(rotated.obs.newKey, /^sk_/);
  t.not(rotated.obs.newKey, streamKey);
  t.equal(await page.textContent('#obs-key'), rotated.obs.newKey, 'the new key shown');
  t.equal((await srv.api('GET', `/v1/streams/${id}/ingest`, undefined, token)).json.streamKeyPrefix, rotated.obs.newKey!.slice(0, 7), 'the API holds the new key');

  // Another creator's stream: no panels, a clear message (its public view has no ingest).
  const other = await srv.api('POST', '/v1/creators', { handle: 'other', displayName: 'Other' });
  const theirs = (await srv.api('POST', '/v1/streams', { title: 'Not yours' }, other.json.token)).json.id as string;
  await page.goto(`${srv.base}/studio?stream=${theirs}`);
  const refusedRoom = await waitFor(async () => { const h = await hook(page); return h?.error ? h : undefined; }, 'another creator\'s stream refused', 10_000);
  t.match(refusedRoom.error, /not one of yours/, 'said in words');
  t.equal(await page.locator('#control-room .panel').count(), 0, 'no panels');
});
