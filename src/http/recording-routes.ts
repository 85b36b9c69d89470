import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../core/errors.js';
import { owned } from './streams-routes.js';
import { sendFile } from './file-response.js';
import type { LinkCheck } from '../recorder/signed-links.js';
import type { RecordingInfo } from '../recorder/recording-service.js';

/** What the routes need of the recorder (RecordingService provides it; tests may pass a fake). */
export interface RecordingRoutesSource {
  info(streamId: string): Promise<RecordingInfo | undefined>;
  mp4File(streamId: string): Promise<string | undefined>;
  signer: { sign(streamId: string): { exp: number; sig: string; expiresAt: number }; verify(streamId: string, exp: unknown, sig: unknown): LinkCheck };
}

import { dependsOn } from './services.js';

const IdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) }, { additionalProperties: false });
// Values are checked by the signer (a malformed one is a 403 like a forged one, never a 400 that says which part is wrong).
const DownloadQuery = Type.Object({ exp: Type.Optional(Type.String({ maxLength: 20 })), sig: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: true });

function baseUrl(req: FastifyRequest, configured: string): string {
  if (configured) return configured.replace(/\/+$/, '');
  return `${req.protocol}://${req.headers.host ?? 'localhost'}`;
}

/** The download path of a stream's recording (the signature goes in the query). */
export function downloadPath(streamId: string): string {
  return `/v1/streams/${streamId}/recording/download`;
}

/**
 * A stream's recording for its creator or the operator (state, duration, size, a signed expiring
 * download link), and the download itself: the MP4 as an attachment with Range support, for
 * whoever holds a valid link (403 for a forged or expired one).
 */
async function recording(app: FastifyInstance): Promise<void> {
  const recordings: RecordingRoutesSource = app.recordings;
  const o = { store: app.store, auth: app.auth, recordings, publicBaseUrl: app.config.publicBaseUrl };
  app.get<{ Params: Static<typeof IdParams> }>('/v1/streams/:id/recording', { schema: { params: IdParams } }, async (req) => {
    const p = await o.auth.requireAuthenticated(req);
    const rec = await owned(o.store, p, req.params.id);
    const info = await o.recordings.info(rec.id);
    const out: Record<string, unknown> = {
      state: info?.state ?? 'none',
      durationSeconds: info?.durationSeconds ?? null,
      sizeBytes: info?.sizeBytes ?? null,
      renditions: info?.renditions ?? [],
      mp4Rendition: info?.mp4Rendition ?? null,
      // The server only has transcoded renditions: the MP4 is the top one, remuxed, never the source.
      sourcePassthrough: false,
      segments: info?.segments ?? null,
      discontinuities: info?.discontinuities ?? null,
      code: info?.code ?? null,
      reason: info?.reason ?? null,
      download: null,
    };
    if (info?.state === 'ready' && (await o.recordings.mp4File(rec.id))) {
      const link = o.recordings.signer.sign(rec.id);
      out.download = { url: `${baseUrl(req, o.publicBaseUrl)}${downloadPath(rec.id)}?exp=${link.exp}&sig=${link.sig}`, expiresAt: new Date(link.expiresAt).toISOString() };
    }
    if (info?.state === 'ready' || (rec.state === 'ended' && info?.state === 'processing')) out.replay = { hls: `${baseUrl(req, o.publicBaseUrl)}/hls/${rec.id}/master.m3u8` };
    return out;
  });

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof DownloadQuery> }>('/v1/streams/:id/recording/download', { schema: { params: IdParams, querystring: DownloadQuery } }, async (req, reply) => {
    const { id } = req.params;
    const check = o.recordings.signer.verify(id, req.query.exp, req.query.sig);
    if (check !== 'ok') throw new ShowcaseError('SHOWCASE_ERR_FORBIDDEN', check === 'expired' ? 'the download link has expired: ask for a new one' : 'invalid download link');
    const file = await o.recordings.mp4File(id);
    if (!file) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'the recording is not available');
    // ETag/Last-Modified and If-Range come from sendFile: a resumed download whose validator no
    // longer matches gets the whole file, not a wrong range.
    reply.header('content-disposition', `attachment; filename="recording-${id}.mp4"`);
    reply.header('cache-control', 'private, no-store');
    return sendFile(reply, file, 'video/mp4');
  });
}

/** The recording API as a plugin: registered only when recording is enabled (the recordings service exists). */
export const recordingRoutes = fp(recording, {
  name: 'showcase-recording-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: dependsOn('config', 'store', 'auth', 'recordings'),
});
