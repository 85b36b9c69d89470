import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HlsOrigin } from './hls-origin.js';
import type { HlsResponse } from './types.js';
import { parseRange } from '../../http/range.js';
import { sendFile, mediaContentType } from '../../http/file-response.js';
import { readFile } from 'node:fs/promises';
import { withQuery } from './playlist-writer.js';
import { dependsOn } from '../../http/services.js';
import { appendQuery } from '../../journey/practice/practice-gate.js';

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const NAME = /^[a-z0-9_-]{1,16}$/;
const FILE = /^(init\d{1,9}\.mp4|p\d{1,12}\.\d{1,6}\.m4s|s\d{1,12}\.m4s)$/;

/** What the routes need of the rest of the server, read from its services. */
interface HlsRouteSources {
  origin: HlsOrigin;
  corsOrigin: string;
  /** Builds the query string each URI in a playlist carries (the viewer session), '' for none. */
  sessionQuery?: (streamId: string) => string;
  /** Whether a stream has a publisher now: its multivariant request waits for the first media. */
  isLive?: (streamId: string) => boolean;
  /** Replays: a finished recording's file (VOD playlists and media) when no live origin holds the stream. */
  vod?: (streamId: string, rendition: string | undefined, file: string) => string | undefined | Promise<string | undefined>;
  /** Marks a viewer session active (each playlist or media request that carries _sid). */
  touchSession?: (streamId: string, sessionId: string) => void;
}

const SID = /^[A-Za-z0-9_-]{1,64}$/;

const CACHE: Record<'playlist' | 'immutable' | 'short' | 'private', string> = {
  // Live playlists change every part: a CDN may coalesce for a moment, never serve stale for long.
  playlist: 'public, max-age=1',
  short: 'public, max-age=2',
  immutable: 'public, max-age=31536000, immutable',
  // A multivariant that hands out a viewer session id is that viewer's alone: no shared cache keeps it.
  private: 'private, no-store',
};

function notFound(reply: FastifyReply, message: string) {
  return reply.status(404).send({ error: { code: 'SHOWCASE_ERR_NOT_FOUND', message } });
}

/**
 * The LL-HLS origin over HTTP for players and CDNs: /hls/:id/master.m3u8, /hls/:id/:rendition/index.m3u8
 * and media files. Names are matched against strict patterns, so traversal-shaped paths are 404s.
 */
async function hls(app: FastifyInstance): Promise<void> {
  const { registry, sessions } = app;
  const recordings = app.hasDecorator('recordings') ? app.recordings : undefined;
  // A practice stream's preview signature rides on every URI its playlists hand out (checked by the practice hook).
  const carried = (req: FastifyRequest): string => (app.hasDecorator('practice') ? app.practice.carry(req.query as Record<string, unknown>) : '');
  const opts: HlsRouteSources = {
    origin: app.origin,
    corsOrigin: app.config.http.corsOrigin,
    // Each playlist request of a new viewer opens a watching session (replay when not live now).
    sessionQuery: (id) => {
      const live = registry.get(id)?.state === 'live';
      const sid = sessions.issue(id, 'hls', live ? 'live' : 'replay');
      return sid ? `?_sid=${sid}` : '';
    },
    touchSession: (id, sid) => sessions.touch(sid, undefined, id),
    isLive: (id) => registry.get(id)?.publisher !== undefined,
    vod: recordings ? (id, rendition, file) => recordings.vodFile(id, rendition, file) : undefined,
  };
  app.addHook('onRequest', async (req, reply) => {
    reply.header('access-control-allow-origin', opts.corsOrigin);
    reply.header('access-control-expose-headers', 'content-length, content-range, age, date');
    reply.header('timing-allow-origin', '*');
  });
  app.options('/hls/*', async (_req, reply) => {
    reply.header('access-control-allow-methods', 'GET, HEAD, OPTIONS');
    reply.header('access-control-allow-headers', 'range, content-type');
    reply.header('access-control-max-age', '86400');
    return reply.status(204).send();
  });

  const sendVod = (reply: FastifyReply, file: string, cache: string) => {
    reply.header('cache-control', cache);
    return sendFile(reply, file, mediaContentType(file));
  };

  /** A replay playlist with the viewer session on every URI (small text files, read per request). */
  const sendVodPlaylist = async (reply: FastifyReply, file: string, query: string, cache: string) => {
    reply.header('cache-control', cache);
    reply.header('content-type', mediaContentType(file));
    return reply.send(withQuery(await readFile(file, 'utf8'), query));
  };

  /** The `?_sid=` of a request carrying a well-formed session id, touching that session; '' otherwise. */
  const touchedSession = (id: string, req: FastifyRequest<{ Querystring: Record<string, unknown> }>): string => {
    const raw = req.query._sid;
    if (typeof raw !== 'string' || !SID.test(raw)) return '';
    opts.touchSession?.(id, raw);
    return `?_sid=${raw}`;
  };

  const send = (req: FastifyRequest, reply: FastifyReply, r: HlsResponse) => {
    if (r.status !== 200) {
      if (r.status === 503) reply.header('retry-after', '1');
      reply.header('cache-control', 'no-store');
      return reply.status(r.status).send({ error: { code: r.code, message: r.message } });
    }
    reply.header('cache-control', CACHE[r.cache]);
    reply.header('content-type', r.contentType);
    if (typeof r.body === 'string') return reply.send(r.body);
    reply.header('accept-ranges', 'bytes');
    const range = parseRange(req.headers.range, r.body.length);
    if (range === 'unsatisfiable') {
      reply.header('content-range', `bytes */${r.body.length}`);
      return reply.status(416).send();
    }
    if (range) {
      reply.header('content-range', `bytes ${range.start}-${range.end}/${r.body.length}`);
      return reply.status(206).send(r.body.subarray(range.start, range.end + 1));
    }
    return reply.send(r.body);
  };

  app.get<{ Params: { id: string } }>('/hls/:id/master.m3u8', async (req, reply) => {
    const { id } = req.params;
    let stream = ID.test(id) ? opts.origin.get(id) : undefined;
    // Just gone live: hold the request (bounded) until the transcoder's output exists, as players
    // otherwise see a 404 and back off. Bounded by the same server-wide budget as blocking reloads.
    if (!stream && ID.test(id) && opts.isLive?.(id) && opts.origin.budget.inFlight < opts.origin.budget.max) {
      opts.origin.budget.inFlight++;
      try {
        stream = await opts.origin.waitFor(id, 6000);
      } finally {
        opts.origin.budget.inFlight--;
      }
    }
    // An ended stream replays from its recording as soon as there is one: memory holds only the last window.
    if (!stream || stream.ended) {
      const vod = ID.test(id) ? await opts.vod?.(id, undefined, 'master.m3u8') : undefined;
      if (vod) {
        // Replay viewers get a session too (counted as mode 'replay'); their copy is theirs alone.
        const query = appendQuery(opts.sessionQuery?.(id) ?? '', carried(req));
        return sendVodPlaylist(reply, vod, query, query ? CACHE.private : 'public, max-age=60');
      }
      if (!stream) return notFound(reply, 'no live stream with that id');
    }
    const query = appendQuery(opts.sessionQuery?.(id) ?? '', carried(req));
    const r = await stream.multivariant(query);
    return send(req, reply, query && r.status === 200 ? { ...r, cache: 'private' } : r);
  });

  app.get<{ Params: { id: string; rendition: string }; Querystring: Record<string, unknown> }>('/hls/:id/:rendition/index.m3u8', async (req, reply) => {
    const { id, rendition } = req.params;
    const stream = ID.test(id) && NAME.test(rendition) ? opts.origin.get(id) : undefined;
    if (!stream || stream.ended) {
      const vod = ID.test(id) && NAME.test(rendition) ? await opts.vod?.(id, rendition, 'index.m3u8') : undefined;
      if (vod) return sendVodPlaylist(reply, vod, appendQuery(touchedSession(id, req), carried(req)), 'public, max-age=60');
      if (!stream) return notFound(reply, 'no live stream with that id');
    }
    return send(req, reply, await stream.mediaPlaylist(rendition, req.query, appendQuery(touchedSession(id, req), carried(req))));
  });

  app.get<{ Params: { id: string; rendition: string; file: string }; Querystring: Record<string, unknown> }>('/hls/:id/:rendition/:file', async (req, reply) => {
    const { id, rendition, file } = req.params;
    const stream = ID.test(id) && NAME.test(rendition) && FILE.test(file) ? opts.origin.get(id) : undefined;
    if (!stream) {
      const vod = ID.test(id) && NAME.test(rendition) && FILE.test(file) ? await opts.vod?.(id, rendition, file) : undefined;
      if (!vod) return notFound(reply, 'no such media');
      touchedSession(id, req);
      return sendVod(reply, vod, CACHE.immutable);
    }
    touchedSession(id, req);
    const r = await stream.media(rendition, file);
    // An ended stream's older segments have left memory but are in its recording (same names, same bytes).
    const vod = r.status === 404 && stream.ended ? await opts.vod?.(id, rendition, file) : undefined;
    if (vod) return sendVod(reply, vod, CACHE.immutable);
    return send(req, reply, r);
  });
}

/** The LL-HLS origin routes as a plugin; replays come from the recordings service when it is registered before it. */
export const hlsRoutes = fp(hls, {
  name: 'showcase-hls-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: [...dependsOn('config', 'origin', 'registry', 'sessions'), 'showcase-static-files'],
});
