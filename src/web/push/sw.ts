/**
 * The site's service worker (served at /sw.js, scope /): shows a followed creator's go-live push
 * message as a notification and opens (or focuses) the watch page when it is clicked. The message
 * is the JSON the server encrypts per subscription (src/journey/notify/notify-events.ts PushMessage):
 * {type, title, body, url, streamId, tag}.
 */

/** The parts of the service worker scope this file uses (the DOM lib has no WebWorker types). */
interface WorkerScope {
  registration: { showNotification(title: string, options: NotificationOptions): Promise<void> };
  clients: {
    matchAll(o: { type: 'window'; includeUncontrolled: boolean }): Promise<Array<{ url: string; focus(): Promise<unknown> }>>;
    openWindow(url: string): Promise<unknown>;
    claim(): Promise<void>;
  };
  location: Location;
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', fn: (e: ExtendableEvent) => void): void;
  addEventListener(type: 'push', fn: (e: ExtendableEvent & { data: { json(): unknown; text(): string } | null }) => void): void;
  addEventListener(type: 'notificationclick', fn: (e: ExtendableEvent & { notification: Notification }) => void): void;
}
interface ExtendableEvent {
  waitUntil(p: Promise<unknown>): void;
}

/** What a go-live message carries. */
interface LiveMessage {
  type?: string;
  title?: string;
  body?: string;
  url?: string;
  tag?: string;
}

const sw = self as unknown as WorkerScope;

sw.addEventListener('install', (e) => e.waitUntil(sw.skipWaiting()));
sw.addEventListener('activate', (e) => e.waitUntil(sw.clients.claim()));

sw.addEventListener('push', (e) => {
  let m: LiveMessage;
  try {
    m = (e.data?.json() ?? {}) as LiveMessage;
  } catch {
    m = { body: e.data?.text() ?? '' };
  }
  // Only same-site pages are opened from a notification.
  const url = safeUrl(m.url);
  e.waitUntil(sw.registration.showNotification(m.title ?? 'Live now', { body: m.body ?? '', tag: m.tag, data: { url } }));
});

sw.addEventListener('notificationclick', (e) => {
  e.notification.close();
  const url = safeUrl((e.notification.data as { url?: string } | null)?.url);
  e.waitUntil((async () => {
    const open = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const same = open.find((c) => c.url === url);
    if (same) await same.focus();
    else await sw.clients.openWindow(url);
  })());
});

/** The message's URL if it is on this site, else the home page. */
function safeUrl(u: string | undefined): string {
  try {
    const url = new URL(u ?? '/', sw.location.origin);
    return url.origin === sw.location.origin ? url.href : sw.location.origin + '/';
  } catch {
    return sw.location.origin + '/';
  }
}
