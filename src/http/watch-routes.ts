import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ShowcaseError } from '../core/errors.js';
import { projectRoot } from '../core/project-root.js';
import type { LiveStream } from '../core/live-stream.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import type { Logger } from '../core/logger.js';
import type { StreamRecord, StreamState } from '../store/types.js';
import { dependsOn } from './services.js';
import { appendQuery } from '../journey/practice/practice-gate.js';
import type { WatchEvent, WatchEventFeed } from './watch-event-feed.js';

/** Settings of the watch page and its live-state feed (the store and registry are services). */
export interface WatchRoutesOptions {
  /** Where scripts/build-web.mjs wrote the page (manifest.json, watch.html, hashed JS/CSS); dist/web by default. */
  assetsDir?: string;
  /** Base URL for playback links ('' = same origin as the page); config publicBaseUrl by default. */
  publicBaseUrl?: string;
  /** Open event-stream connections allowed per stream (default 2000). */
  maxSsePerStream?: number;
  /** Open event-stream connections allowed on this server (default 20000). */
  maxSseTotal?: number;
  /** Interval of the keep-alive comment on event streams (default 15 s). */
  heartbeatMs?: number;
  /** Events other parts send to watch pages (the carousel, highlights), besides 'state'. */
  feed?: WatchEventFeed;
}

/** The public live state of a stream, as sent in 'state' events (never a secret). */
export interface PublicStreamState {
  state: StreamState;
  startedAt: string | null;
  endedAt: string | null;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
// A slow event-stream reader is cut rather than buffered for: events are tiny, so this is many.
const MAX_SSE_BUFFERED_BYTES = 64 * 1024;

/** dist/web under the project root, whether this module runs from src/ (tap) or dist/src/ (built). */
export function defaultWebAssetsDir(): string {
  return join(projectRoot(), 'dist', 'web');
}

function iso(ms: number | null | undefined): string | null {
  return ms ? new Date(ms).toISOString() : null;
}

/** The public state of a stream from its persisted record (and the in-memory stream when newer). */
function publicState(rec: StreamRecord | undefined, live: LiveStream | undefined): PublicStreamState | undefined {
  if (!rec && !live) return undefined;
  return {
    state: live?.state ?? rec!.state,
    startedAt: iso(rec?.startedAt ?? live?.startedAt),
    endedAt: iso(rec?.endedAt ?? live?.endedAt),
  };
}

interface SseClient {
  streamId: string;
  res: ServerResponse;
}

/**
 * Server-sent 'state' events for watch pages: one set of open responses per stream, fed by the
 * registry's LiveStream 'state' events. Bounded per stream and server-wide; a client that stops
 * reading is dropped; one shared heartbeat timer runs only while a client is connected.
 */
export class StreamStateHub {
  readonly #byStream = new Map<string, Set<SseClient>>();
  readonly #opts: { maxPerStream: number; maxTotal: number; heartbeatMs: number };
  readonly #registry: StreamRegistry;
  readonly #log: Logger;
  #total = 0;
  #heartbeat?: NodeJS.Timeout;
  #closed = false;
  readonly #detach: () => void;

  constructor(opts: { registry: StreamRegistry; logger: Logger; maxPerStream: number; maxTotal: number; heartbeatMs: number; feed?: WatchEventFeed }) {
    this.#opts = { maxPerStream: opts.maxPerStream, maxTotal: opts.maxTotal, heartbeatMs: opts.heartbeatMs };
    this.#registry = opts.registry;
    this.#log = opts.logger;
    const watch = (s: LiveStream): void => {
      s.on('state', () => this.publish(s.id));
    };
    for (const s of opts.registry.all()) watch(s);
    opts.registry.on('stream', watch);
    const onFeed = (streamId: string, e: WatchEvent): void => this.send(streamId, e);
    opts.feed?.on('event', onFeed);
    this.#detach = () => {
      opts.registry.off('stream', watch);
      opts.feed?.off('event', onFeed);
    };
  }

  /** Open connections, all streams together. */
  get size(): number {
    return this.#total;
  }

  /** Open connections for one stream. */
  count(streamId: string): number {
    return this.#byStream.get(streamId)?.size ?? 0;
  }

  /** Why a new connection for streamId would be refused, or undefined if it may open. */
  refusal(streamId: string): string | undefined {
    if (this.#closed) return 'server stopping';
    if (this.#total >= this.#opts.maxTotal) return 'too many live event connections on this server';
    if (this.count(streamId) >= this.#opts.maxPerStream) return 'too many live event connections for this stream';
    return undefined;
  }

  /** Takes over a response: writes the event-stream head and the current state, and keeps it until it closes. */
  add(streamId: string, req: IncomingMessage, res: ServerResponse, initial: PublicStreamState): void {
    const client: SseClient = { streamId, res };
    let set = this.#byStream.get(streamId);
    if (!set) this.#byStream.set(streamId, (set = new Set()));
    set.add(client);
    this.#total++;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies such as nginx would otherwise hold events back in their buffers.
      'x-accel-buffering': 'no',
      'access-control-allow-origin': '*',
    });
    res.socket?.setNoDelay(true);
    this.#write(client, `retry: 3000\n\n${stateEvent(initial)}`);
    const drop = (): void => this.#remove(client);
    req.on('close', drop);
    res.on('close', drop);
    res.on('error', drop);
    this.#ensureHeartbeat();
  }

  /**
   * Sends a stream's current state to every page watching it, from the in-memory stream (the store
   * write of the same change may still be queued, and events must go out in order, without a wait).
   */
  publish(streamId: string): void {
    const set = this.#byStream.get(streamId);
    if (!set?.size) return;
    const s = publicState(undefined, this.#registry.get(streamId));
    if (!s) return;
    const msg = stateEvent(s);
    for (const c of [...set]) this.#write(c, msg);
  }

  /** Sends a typed event (named after its type) to every page watching the stream. */
  send(streamId: string, e: WatchEvent): void {
    const set = this.#byStream.get(streamId);
    if (!set?.size) return;
    const { type, ...data } = e;
    const msg = `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of [...set]) this.#write(c, msg);
  }

  /** Ends every open event stream (server stopping); new ones are refused from now on. */
  close(): void {
    this.#closed = true;
    this.#detach();
    for (const set of [...this.#byStream.values()]) for (const c of [...set]) c.res.end();
    this.#byStream.clear();
    this.#total = 0;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #write(c: SseClient, text: string): void {
    if (c.res.writableEnded || c.res.destroyed) return this.#remove(c);
    if (c.res.writableLength > MAX_SSE_BUFFERED_BYTES) {
      this.#log.warn({ streamId: c.streamId }, 'event-stream client not reading: dropped');
      c.res.destroy();
      return this.#remove(c);
    }
    c.res.write(text);
  }

  #remove(c: SseClient): void {
    const set = this.#byStream.get(c.streamId);
    if (!set?.delete(c)) return;
    this.#total--;
    if (!set.size) this.#byStream.delete(c.streamId);
    if (!this.#total && this.#heartbeat) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = undefined;
    }
  }

  #ensureHeartbeat(): void {
    if (this.#heartbeat) return;
    this.#heartbeat = setInterval(() => {
      const line = `: keep-alive ${Date.now()}\n\n`;
      for (const set of [...this.#byStream.values()]) for (const c of [...set]) this.#write(c, line);
    }, this.#opts.heartbeatMs);
    this.#heartbeat.unref();
  }
}

function stateEvent(s: PublicStreamState): string {
  return `event: state\ndata: ${JSON.stringify(s)}\n\n`;
}

/** What scripts/build-web.mjs writes next to the bundle: hashed file names and the page templates. */
export interface WebManifest {
  js: string;
  css: string;
  html: string;
  /** Every page's files (watch, studio); the top-level js/css/html are the watch page's. */
  pages?: Record<string, { js: string; css: string; html: string }>;
  files: string[];
}

export interface LoadedAssets {
  manifest: WebManifest;
  template: string;
}

/** Reads the built page's manifest and HTML template once (its files are served by web-assets.ts). */
export function loadAssets(dir: string): LoadedAssets | undefined {
  const manifestFile = join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) return undefined;
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as WebManifest;
  return { manifest, template: readFileSync(join(dir, manifest.html), 'utf8') };
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that is safe inside a <script type="application/json"> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function render(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (m, k: string) => vars[k] ?? m);
}

function notFoundPage(reply: FastifyReply): FastifyReply {
  reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store');
  return reply.status(404).send('<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Not found</title><p style="font-family:system-ui;padding:2rem">This stream does not exist (or was deleted).</p>');
}

/**
 * The shopper's watch page: GET /watch/:id (HTML), its bundled script and styles under
 * /assets/watch/*, and GET /v1/streams/:id/events (server-sent 'state' events).
 */
async function watch(app: FastifyInstance, o: WatchRoutesOptions): Promise<void> {
  const opts = { ...o, store: app.store, registry: app.registry, assetsDir: o.assetsDir ?? defaultWebAssetsDir(), publicBaseUrl: o.publicBaseUrl ?? app.config.publicBaseUrl };
  const log = app.log as unknown as Logger;
  const base = opts.publicBaseUrl.replace(/\/+$/, '');
  const stateOf = async (id: string): Promise<PublicStreamState | undefined> => publicState(await opts.store.getStream(id), opts.registry.get(id));
  const hub = new StreamStateHub({
    registry: opts.registry,
    logger: log,
    maxPerStream: opts.maxSsePerStream ?? 2000,
    maxTotal: opts.maxSseTotal ?? 20000,
    heartbeatMs: opts.heartbeatMs ?? 15000,
    feed: opts.feed,
  });
  app.addHook('preClose', async () => hub.close());

  let assets: LoadedAssets | undefined;
  let warned = false;
  const getAssets = (): LoadedAssets => {
    assets ??= loadAssets(opts.assetsDir);
    if (!assets) {
      if (!warned) log.warn({ assetsDir: opts.assetsDir }, 'watch page not built: run node scripts/build-web.mjs');
      warned = true;
      throw new ShowcaseError('SHOWCASE_ERR_UNAVAILABLE', 'the watch page is not built on this server');
    }
    return assets;
  };

  app.get<{ Params: { id: string } }>('/watch/:id', async (req, reply) => {
    const { id } = req.params;
    const rec = ID.test(id) ? await opts.store.getStream(id) : undefined;
    if (!rec) return notFoundPage(reply);
    const a = getAssets();
    const creator = rec.ownerId ? await opts.store.getCreator(rec.ownerId) : undefined;
    const hlsBase = base || '';
    const preview = app.hasDecorator('practice') ? app.practice.carry(req.query as Record<string, unknown>) : '';
    const config = {
      id: rec.id,
      title: rec.title,
      creator: creator ? { id: creator.id, displayName: creator.displayName, handle: creator.handle } : null,
      ...publicState(rec, opts.registry.get(id))!,
      // The countdown (issue 15); the page starts by itself on the 'state' event at go-live.
      scheduledAt: iso(rec.scheduledAt),
      // A practice stream's preview link: its signature goes on to the playlists and the events.
      hls: `${hlsBase}/hls/${rec.id}/master.m3u8${appendQuery('', preview)}`,
      events: `/v1/streams/${rec.id}/events${appendQuery('', preview)}`,
      api: `/v1/streams/${rec.id}`,
    };
    const mediaOrigin = base ? ` ${new URL(base).origin}` : '';
    reply.header('content-type', 'text/html; charset=utf-8');
    reply.header('cache-control', 'no-cache');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'strict-origin-when-cross-origin');
    // media-src data: for hls.js's metadata track (<track src="data:,WEBVTT">): blocked, the track
    // errors and drops the DATERANGE cues the native-player path of the highlight pop-up reads.
    reply.header('content-security-policy', `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; media-src 'self' blob: data:${mediaOrigin}; connect-src 'self'${mediaOrigin}; worker-src 'self' blob:; frame-ancestors *; base-uri 'none'; form-action 'none'`);
    return reply.send(render(a.template, {
      title: escapeHtml(rec.title),
      creator: escapeHtml(creator?.displayName ?? ''),
      js: `/assets/watch/${a.manifest.js}`,
      css: `/assets/watch/${a.manifest.css}`,
      config: scriptJson(config),
      // Live: the browser fetches the multivariant playlist while it still parses the script (one
      // round trip less before the first frame); hls.js's request then takes the preloaded answer.
      preload: config.state === 'live' ? `<link rel="preload" href="${escapeHtml(config.hls)}" as="fetch" crossorigin="anonymous">` : '',
    }));
  });


  app.get<{ Params: { id: string } }>('/v1/streams/:id/events', async (req, reply) => {
    const { id } = req.params;
    const initial = ID.test(id) ? await stateOf(id) : undefined;
    if (!initial) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no stream with that id');
    const why = hub.refusal(id);
    if (why) {
      reply.header('retry-after', '10');
      throw new ShowcaseError('SHOWCASE_ERR_UNAVAILABLE', why);
    }
    reply.hijack();
    hub.add(id, req.raw, reply.raw, initial);
    return reply;
  });
}

/** The watch page and its event stream as a plugin over the store and the registry. */
export const watchRoutes = fp(watch, {
  name: 'showcase-watch-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: dependsOn('config', 'store', 'registry'),
});
