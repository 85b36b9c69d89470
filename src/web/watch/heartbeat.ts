/**
 * The viewer heartbeat (POST /v1/streams/:id/heartbeat): behind a CDN the origin sees no playlist
 * fetches, so the page itself says it is still watching. The session id is the one the origin put
 * on the media playlist URLs of the multivariant (`_sid`), so the heartbeat and direct fetches count
 * as the same viewer, never twice.
 */
export class ViewerHeartbeat {
  readonly #url: string;
  readonly #sessionId: () => string | undefined;
  readonly #active: () => boolean;
  #timer?: number;
  #failures = 0;

  /** url: the heartbeat endpoint; sessionId: the current `_sid`; active: whether the viewer is watching now. */
  constructor(url: string, sessionId: () => string | undefined, active: () => boolean) {
    this.#url = url;
    this.#sessionId = sessionId;
    this.#active = active;
  }

  /** Beats every intervalMs while active (and the tab is visible); idempotent. */
  start(intervalMs: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = window.setInterval(() => void this.#beat(), intervalMs);
  }

  /** Stops beating. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #beat(): Promise<void> {
    const sid = this.#sessionId();
    if (!sid || document.visibilityState === 'hidden' || !this.#active()) return;
    try {
      const res = await fetch(this.#url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionId: sid }), keepalive: true });
      // 404: the session expired or the stream is gone; 429: over the per-address budget. Either way
      // the playlist fetches still count; stop after a few in a row rather than hammer the server.
      this.#failures = res.ok ? 0 : this.#failures + 1;
    } catch {
      this.#failures++;
    }
    if (this.#failures >= 5) this.stop();
  }
}

/** The `_sid` on a playlist URL, if any. */
export function sessionIdOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url, location.href).searchParams.get('_sid') ?? undefined;
  } catch {
    return undefined;
  }
}
