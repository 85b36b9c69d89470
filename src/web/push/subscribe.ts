/**
 * Web Push from a page (issue 15): `subscribeToPush(shopperToken)` registers the site's service
 * worker (/sw.js), asks for notification permission, subscribes with the node's VAPID key
 * (GET /v1/push/vapid-public-key) and registers the subscription with
 * POST /v1/shoppers/me/push-subscriptions. `followWithPush` follows a creator and then subscribes.
 * For the watch page's and the storefront's follow buttons; nothing here touches the DOM.
 */

/** Why no subscription was made, when none was. */
export type PushUnavailable = 'unsupported' | 'denied' | 'failed';

/** The registered subscription, or why there is none. */
export type SubscribeResult = { ok: true; id: string } | { ok: false; why: PushUnavailable; detail?: string };

/** base64url to bytes (the VAPID key as PushManager.subscribe takes it). */
export function base64UrlToBytes(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Registers this browser for the signed-in shopper's go-live notifications. Never throws. */
export async function subscribeToPush(shopperToken: string): Promise<SubscribeResult> {
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) return { ok: false, why: 'unsupported' };
  try {
    const reg = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
    await navigator.serviceWorker.ready;
    const permission = Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
    if (permission !== 'granted') return { ok: false, why: 'denied' };
    const { publicKey } = (await (await fetch('/v1/push/vapid-public-key')).json()) as { publicKey: string };
    const key = base64UrlToBytes(publicKey);
    let sub = await reg.pushManager.getSubscription();
    // A subscription made for another key (the node's key changed) cannot be used: make a new one.
    const had = sub?.options.applicationServerKey;
    if (sub && had && !sameBytes(new Uint8Array(had), key)) {
      await sub.unsubscribe();
      sub = null;
    }
    sub ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    const res = await fetch('/v1/shoppers/me/push-subscriptions', {
      method: 'POST', headers: { authorization: `Bearer ${shopperToken}`, 'content-type': 'application/json' }, body: JSON.stringify(sub.toJSON()),
    });
    if (!res.ok) return { ok: false, why: 'failed', detail: `HTTP ${res.status}` };
    return { ok: true, id: ((await res.json()) as { id: string }).id };
  } catch (err) {
    return { ok: false, why: 'failed', detail: (err as Error).message };
  }
}

/** Follows a creator (PUT /v1/creators/:id/followers/me), then subscribes this browser to go-live notifications. */
export async function followWithPush(creatorId: string, shopperToken: string): Promise<{ following: boolean; followerCount?: number; push: SubscribeResult }> {
  const res = await fetch(`/v1/creators/${encodeURIComponent(creatorId)}/followers/me`, { method: 'PUT', headers: { authorization: `Bearer ${shopperToken}` } });
  if (!res.ok) return { following: false, push: { ok: false, why: 'failed', detail: `follow: HTTP ${res.status}` } };
  const body = (await res.json()) as { following: boolean; followerCount: number };
  return { following: body.following, followerCount: body.followerCount, push: await subscribeToPush(shopperToken) };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
