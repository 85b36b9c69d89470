/// <reference lib="dom" />
/** The stream states the page acts on (src/store/types.ts StreamState, 'interrupted' read as 'live'). */
export type StreamState = 'idle' | 'live' | 'ended';

/**
 * The page's view of a server state: 'interrupted' (a server restart; the publisher is expected
 * back within the reconnect grace) plays on as 'live', so the player keeps retrying instead of
 * showing the end; undefined for a state the page does not know.
 */
export function pageState(state: unknown): StreamState | undefined {
  if (state === 'interrupted') return 'live';
  return state === 'idle' || state === 'live' || state === 'ended' ? state : undefined;
}

/** One 'state' event from GET /v1/streams/:id/events (or the REST view when polling). */
export interface StateUpdate {
  state: StreamState;
  startedAt: string | null;
  endedAt: string | null;
}

const POLL_MS = 5000;

/**
 * Follows a stream's state: server-sent events first; if the server refuses or the browser has no
 * EventSource, polling the public REST view every few seconds. Calls onState only on a change.
 */
export class StateFeed {
  readonly #eventsUrl: string;
  readonly #apiUrl: string;
  readonly #onState: (s: StateUpdate) => void;
  #last?: StreamState;
  #es?: EventSource;
  #poll?: number;
  #closed = false;

  readonly #named: Record<string, (data: unknown) => void>;

  /** named: handlers for the feed's other events (e.g. 'products'), given each event's parsed data. */
  constructor(opts: { eventsUrl: string; apiUrl: string; onState: (s: StateUpdate) => void; named?: Record<string, (data: unknown) => void> }) {
    this.#eventsUrl = opts.eventsUrl;
    this.#apiUrl = opts.apiUrl;
    this.#onState = opts.onState;
    this.#named = opts.named ?? {};
  }

  /** Opens the event stream (or starts polling). */
  start(): void {
    if (typeof EventSource === 'undefined') return this.#startPolling();
    const es = new EventSource(this.#eventsUrl);
    this.#es = es;
    es.addEventListener('state', (e) => {
      try {
        this.#deliver(JSON.parse((e as MessageEvent<string>).data) as StateUpdate);
      } catch {
        /* a malformed event is ignored: the next one carries the full state again */
      }
    });
    for (const [name, fn] of Object.entries(this.#named)) {
      es.addEventListener(name, (e) => {
        try {
          fn(JSON.parse((e as MessageEvent<string>).data));
        } catch {
          /* a malformed event is ignored */
        }
      });
    }
    es.addEventListener('error', () => {
      // CONNECTING: the browser retries by itself. CLOSED: the server refused (cap, 404): poll instead.
      if (es.readyState === EventSource.CLOSED && !this.#closed) {
        this.#es = undefined;
        this.#startPolling();
      }
    });
  }

  /** Stops listening. */
  close(): void {
    this.#closed = true;
    this.#es?.close();
    this.#es = undefined;
    if (this.#poll !== undefined) clearTimeout(this.#poll);
    this.#poll = undefined;
  }

  #deliver(s: StateUpdate): void {
    const state = pageState(s?.state);
    if (this.#closed || !state) return;
    if (state === this.#last) return;
    this.#last = state;
    this.#onState({ ...s, state });
  }

  #startPolling(): void {
    const tick = async (): Promise<void> => {
      if (this.#closed) return;
      try {
        const res = await fetch(this.#apiUrl, { cache: 'no-store' });
        if (res.ok) {
          const v = (await res.json()) as StateUpdate;
          this.#deliver({ state: v.state, startedAt: v.startedAt ?? null, endedAt: v.endedAt ?? null });
        }
      } catch {
        /* offline for a moment: the next tick tries again */
      }
      // An ended stream does not change again: stop asking.
      if (!this.#closed && this.#last !== 'ended') this.#poll = window.setTimeout(tick, POLL_MS + Math.random() * 1000);
    };
    void tick();
  }
}
