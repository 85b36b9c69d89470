/// <reference lib="dom" />
/**
 * The creator's API client for the studio: the creator token is entered once and kept in
 * localStorage (never in a URL; a `#token=` fragment is read once and stripped from the address
 * bar at once), and every call sends it as `Authorization: Bearer`.
 */

const TOKEN_KEY = 'showcase.creatorToken';

/** An API answer that was not 2xx, with the server's stable code when it sent one. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** The stored creator token, after taking (and removing from the address bar) any `#token=` fragment. */
export function loadToken(): string | undefined {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    localStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]!));
    // The token must not linger in history or be copied along with the address.
    history.replaceState(null, '', location.pathname + location.search);
  }
  return localStorage.getItem(TOKEN_KEY) ?? undefined;
}

/** Keeps the token on this device. */
export function saveToken(token: string): void {
  localStorage.setItem(TOKEN_KEY, token);
}

/** Forgets the token (sign out, or the server refused it). */
export function clearToken(): void {
  localStorage.removeItem(TOKEN_KEY);
}

/** One JSON call with the creator token; resolves the parsed body (undefined for 204). */
export async function api<T>(token: string, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string }; code?: string; message?: string } | undefined);
    const code = err?.error?.code ?? err?.code ?? `HTTP_${res.status}`;
    throw new ApiError(res.status, code, err?.error?.message ?? err?.message ?? `${method} ${path} answered ${res.status}`);
  }
  return json as T;
}

/** Words for a creator: a refused token reads differently from a busy server. */
export function explainApiError(err: unknown): string {
  if (!(err instanceof ApiError)) return (err as Error)?.message || 'Something went wrong.';
  if (err.status === 401 || err.status === 403) return 'That creator token was not accepted. Check it and sign in again.';
  if (err.status === 429) return 'Too many requests. Wait a moment and try again.';
  if (err.status === 409) return `Not possible right now: ${err.message}`;
  return err.message;
}
