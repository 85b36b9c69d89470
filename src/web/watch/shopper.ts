/// <reference lib="dom" />
/**
 * The shopper on this device: the identity POST /v1/shoppers made (id, display name, token), kept
 * in localStorage so the chat, the follow buttons and every Showcase page share it. The token is
 * only ever sent to this server (the room's auth frame, Authorization headers), never in a URL.
 */

const STORAGE_KEY = 'showcase.shopper';

/** A shopper identity as POST /v1/shoppers answers it. */
export interface Shopper { id: string; displayName: string; token: string }

/** The shopper kept on this device, if any (a damaged entry reads as none). */
export function storedShopper(): Shopper | undefined {
  try {
    const v = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null') as Shopper | null;
    return v && typeof v.token === 'string' && typeof v.displayName === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Forgets the shopper (the server refused its token). */
export function forgetShopper(): void {
  localStorage.removeItem(STORAGE_KEY);
}

/** Creates a shopper with this display name (POST /v1/shoppers) and keeps it; rejects with the server's words. */
export async function createShopper(displayName: string): Promise<Shopper> {
  let res: Response;
  try {
    res = await fetch('/v1/shoppers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ displayName }) });
  } catch {
    throw new Error('Could not join: no network');
  }
  const body = await res.json().catch(() => ({})) as Shopper & { error?: { message: string } };
  if (res.status !== 201) throw new Error(body.error?.message ?? 'Could not join');
  const me = { id: body.id, displayName: body.displayName, token: body.token };
  localStorage.setItem(STORAGE_KEY, JSON.stringify(me));
  return me;
}
