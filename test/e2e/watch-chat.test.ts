// The watch page's chat (issue 14) in Debian's Chromium while a real ffmpeg publishes over RTMP:
// the page joins with a display name, posts a message another shopper's real socket receives,
// shows that shopper's message as text (never HTML), the viewer count and hearts; on a phone the
// chat lies over the lower part of the video, on a wide screen beside it; in the replay the chat
// follows the playhead, seeks included.
import t from 'tap';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer } from '../helpers/server.js';
import { publishRtmp } from '../helpers/ffmpeg.js';
import { CHROMIUM, VIEWER_ARGS } from '../helpers/chromium.js';
import { openRoom } from '../helpers/room-client.js';
import { ensureWebBuilt } from '../helpers/web-build.js';

interface Hook { view: string; state: string; playing: boolean; currentTime: number; replayAvailable: boolean }
interface ChatHook { mode: string; joined: boolean; authed: boolean; viewers: number | null; shown: string[]; playheadMs: number | null; errors: string[]; reactions: number }

if (!existsSync(CHROMIUM)) {
  t.fail(`${CHROMIUM} missing: apt-get install -y chromium`);
  process.exit(1);
}
ensureWebBuilt();

const srv = await startServer({ room: { shopperCreatesPerMinute: 100, tickMs: 100 } });
const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: VIEWER_ARGS });
t.teardown(async () => {
  await browser.close().catch(() => {});
  await srv.close();
});

const state = (page: Page): Promise<{ h: Hook; c: ChatHook }> => page.evaluate(() => {
  const w = window as unknown as { __showcase: Hook; __showcaseChat: ChatHook };
  return JSON.parse(JSON.stringify({ h: w.__showcase, c: w.__showcaseChat })) as { h: Hook; c: ChatHook };
});
/** Polls the page's hooks (here, not in the page: its CSP forbids eval) until pred holds. */
async function until(page: Page, pred: (s: { h: Hook; c: ChatHook }) => boolean, timeout: number, what: string): Promise<{ h: Hook; c: ChatHook }> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const s = await state(page).catch(() => undefined);
    if (s && pred(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}; page state ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('live chat on the page, then the replay\'s chat follows a seek', async (t) => {
  t.setTimeout(150000);
  const { id, streamKey } = await srv.createStream('Chat drop');
  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 60);
  t.teardown(() => { pub.kill('SIGKILL'); });
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  const wsUrls: string[] = [];
  page.on('websocket', (ws) => wsUrls.push(ws.url()));
  await page.goto(`${srv.base}/watch/${id}`);
  await until(page, (s) => s.h.view === 'playing', 30000, 'live playback');

  // The other shopper: a real room socket from the test.
  const benTok = (await srv.api('POST', '/v1/shoppers', { displayName: 'Ben' }, null)).json.token as string;
  const ben = await openRoom(srv.base, id);
  await ben.next((f) => f.type === 'history');
  ben.send({ type: 'auth', token: benTok });
  await ben.next((f) => f.type === 'auth.ok');

  // Join with a display name, then post.
  await page.fill('.chat-input', 'Ana');
  await page.click('.chat-send');
  await until(page, (s) => s.c.joined && s.c.authed, 10000, 'joined and authenticated');
  const saved = await page.evaluate(() => JSON.parse(localStorage.getItem('showcase.shopper') ?? 'null') as { token: string; displayName: string });
  t.equal(saved.displayName, 'Ana', 'the shopper is kept on the device');
  t.ok(wsUrls.every((u) => !u.includes(saved.token)), 'the token never goes in a URL');
  await page.fill('.chat-input', 'Is it in blue?');
  await page.click('.chat-send');
  const fromPage = await ben.next((f) => f.type === 'chat' && f.text === 'Is it in blue?', 10000);
  t.match(fromPage.author, { displayName: 'Ana', role: 'shopper' }, 'the other shopper receives the page\'s message');

  ben.send({ type: 'chat', text: '<b>bold</b> <img src=x onerror=alert(1)>' });
  await until(page, (s) => s.c.shown.length === 2, 10000, 'the other shopper\'s message');
  t.equal(await page.locator('.chat-log b, .chat-log img').count(), 0, 'no HTML from a message');
  t.match(await page.textContent('.chat-log'), '<b>bold</b> <img src=x onerror=alert(1)>', 'shown as text');
  await until(page, (s) => s.c.viewers === 2, 5000, 'the viewer count');
  t.match(await page.textContent('.chat-viewers'), '2 watching');
  const beforeHearts = ben.frames.length;
  await page.tap('.chat-react');
  t.ok(await page.locator('.chat-heart').count() >= 1, 'a floating heart');
  t.equal((await ben.next((f) => f.type === 'reactions', 5000, beforeHearts)).counts.heart, 1, 'the reaction reaches the room');

  // Phone layout: the log over the lower part of the video.
  const stage = (await page.locator('#stage').boundingBox())!;
  const log = (await page.locator('.chat-log').boundingBox())!;
  t.ok(log.y >= stage.y + stage.height * 0.3 && log.y < stage.y + stage.height && log.y + log.height <= stage.y + stage.height + 1, 'phone: chat over the lower part of the video');

  // A second message well after the first, so a seek can fall between them (media time must pass: a wait, not an event).
  await page.waitForTimeout(8000);
  await page.fill('.chat-input', 'Ordered two!');
  await page.click('.chat-send');
  await ben.next((f) => f.type === 'chat' && f.text === 'Ordered two!', 10000);
  const stored = (await srv.api('GET', `/v1/streams/${id}/room/messages`, undefined, null)).json.items as Array<{ id: string; mediaTime: string; text: string }>;
  t.equal(stored.length, 3);
  await page.waitForTimeout(4000);

  // Wide screen: beside the video.
  await page.setViewportSize({ width: 1280, height: 800 });
  const wStage = (await page.locator('#stage').boundingBox())!;
  const wChat = (await page.locator('#chat').boundingBox())!;
  t.ok(wChat.x >= wStage.x + wStage.width - 1 && wChat.width >= 300, 'wide: chat beside the video');

  // End, then the replay: the chat follows the playhead.
  pub.kill('SIGINT');
  ben.ws.close();
  await until(page, (s) => s.h.replayAvailable, 30000, 'the replay offer');
  await page.click('#card-action');
  await until(page, (s) => s.h.view === 'replay' && s.c.mode === 'replay' && s.c.playheadMs !== null, 15000, 'replay playback');
  const at = (ms: string): number => Date.parse(ms);
  const seekTo = async (mediaMs: number): Promise<void> => {
    const s = await state(page);
    const date0 = s.c.playheadMs! - s.h.currentTime * 1000;
    await page.evaluate((sec) => { (document.getElementById('video') as HTMLVideoElement).currentTime = sec; }, Math.max(0, (mediaMs - date0) / 1000));
  };
  await seekTo(at(stored[0]!.mediaTime) - 3000);
  const early = await until(page, (s) => s.c.playheadMs! < at(stored[0]!.mediaTime), 10000, 'a seek before the first message');
  t.same(early.c.shown, [], 'before the first message: none shown');
  await seekTo(at(stored[1]!.mediaTime) + 1500);
  const mid = await until(page, (s) => s.c.playheadMs! > at(stored[1]!.mediaTime) && s.c.shown.length === 2, 10000, 'the first two messages');
  t.same(mid.c.shown, [stored[0]!.id, stored[1]!.id], 'mid-way: the two earlier messages, not the later one');
  await seekTo(at(stored[2]!.mediaTime) + 1500);
  const late = await until(page, (s) => s.c.shown.length === 3, 10000, 'all three messages');
  t.same(late.c.shown, stored.map((m) => m.id), 'after the last: all three');
  await seekTo(at(stored[0]!.mediaTime) - 3000);
  await until(page, (s) => s.c.shown.length === 0, 10000, 'back before the first message');
  t.pass('a seek backwards takes the chat back too');
  t.same(pageErrors, [], 'no uncaught errors in the page');
  await page.close();
});
