// The site's service worker (/sw.js, issue 15) in Debian's Chromium: registered with scope /, it
// shows a go-live push message (delivered through the DevTools protocol's
// ServiceWorker.deliverPushMessage, as a push service would hand it to the browser) as a
// notification that carries the watch page's URL, and refuses to carry another site's URL.
import t from 'tap';
import { chromium, type Browser } from 'playwright-core';
import { startServer } from '../helpers/server.js';
import { CHROMIUM, VIEWER_ARGS } from '../helpers/chromium.js';

const srv = await startServer({ recording: { enabled: false } });
const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: VIEWER_ARGS });
t.teardown(async () => {
  await browser.close();
  await srv.close();
});

t.test('the service worker shows the go-live notification with the watch page URL', async (t) => {
  const sw = await fetch(`${srv.base}/sw.js`);
  t.equal(sw.status, 200);
  t.match(sw.headers.get('content-type'), /javascript/);
  t.equal(sw.headers.get('cache-control'), 'no-cache');
  await sw.text();

  const context = await browser.newContext();
  t.teardown(() => context.close());
  await context.grantPermissions(['notifications'], { origin: srv.base });
  const page = await context.newPage();
  await page.goto(`${srv.base}/healthz`);
  const cdp = await context.newCDPSession(page);
  const registered = new Promise<string>((resolve) => {
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e: { registrations: Array<{ registrationId: string; scopeURL: string; isDeleted: boolean }> }) => {
      const r = e.registrations.find((x) => !x.isDeleted && x.scopeURL === `${srv.base}/`);
      if (r) resolve(r.registrationId);
    });
  });
  await cdp.send('ServiceWorker.enable');
  const scope = await page.evaluate(async () => {
    await navigator.serviceWorker.register('/sw.js', { scope: '/' });
    return (await navigator.serviceWorker.ready).scope;
  });
  t.equal(scope, `${srv.base}/`, 'scope: the whole site');
  const registrationId = await registered;

  const shown = async (tag: string) => {
    for (let i = 0; i < 100; i++) {
      const n = await page.evaluate(async (tag) => (await (await navigator.serviceWorker.ready).getNotifications({ tag })).map((x) => ({ title: x.title, body: x.body, tag: x.tag, data: x.data as unknown })), tag);
      if (n.length) return n;
      await new Promise((r) => setTimeout(r, 100));
    }
    return [];
  };
  const msg = { type: 'stream.live', title: 'Nora is live', body: 'Spring sale', url: '/watch/abc123', streamId: 'abc123', tag: 'live-abc123' };
  await cdp.send('ServiceWorker.deliverPushMessage', { origin: srv.base, registrationId, data: JSON.stringify(msg) });
  t.same(await shown('live-abc123'), [{ title: 'Nora is live', body: 'Spring sale', tag: 'live-abc123', data: { url: `${srv.base}/watch/abc123` } }]);

  await cdp.send('ServiceWorker.deliverPushMessage', { origin: srv.base, registrationId, data: JSON.stringify({ ...msg, url: 'https://evil.example/phish', tag: 'live-x' }) });
  t.same((await shown('live-x'))[0]?.data, { url: `${srv.base}/` }, 'another site\'s URL is replaced by the home page');
});
