import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../core/errors.js';
import type { Store } from '../store/types.js';
import type { Authenticator } from './auth.js';
import { owned } from './streams-routes.js';
import type { RecordingManager } from '../recording/recording-manager.js';
import { sendFile } from './file-response.js';

export interface RecordingsRoutesOptions {
  store: Store;
  auth: Authenticator;
  recordings: RecordingManager;
  publicBaseUrl: string;
}

const IdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) }, { additionalProperties: false });
const DownloadQuery = Type.Object({ exp: Type.String({ maxLength: 20 }), sig: Type.String({ maxLength: 100 }) }, { additionalProperties: false });

/** The recording's state and signed download link for its owner, and the download itself. */
export async function recordingsRoutes(app: FastifyInstance, o: RecordingsRoutesOptions): Promise<void> {
  app.get<{ Params: Static<typeof IdParams> }>('/v1/streams/:id/recording', { schema: { params: IdParams } }, async (req) => {
    const p = o.auth.requireAuthenticated(req);
    const rec = owned(o.store, p, req.params.id);
    const info = o.recordings.info(rec.id);
    if (!info) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'this stream has no recording (it never went live)');
    const out: Record<string, unknown> = { state: info.state, reason: info.reason ?? null, durationSeconds: info.durationSeconds ?? null, sizeBytes: info.sizeBytes ?? null, renditions: info.renditions ?? [] };
    if (info.state === 'ready') {
      const base = o.publicBaseUrl ? o.publicBaseUrl.replace(/\/+$/, '') : `${req.protocol}://${req.headers.host ?? 'localhost'}`;
      const link = o.recordings.signedPath(rec.id);
      out.downloadUrl = base + link.path;
      out.expiresAt = new Date(link.expiresAt).toISOString();
    }
    return out;
  });

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof DownloadQuery> }>('/recordings/:id/download', { schema: { params: IdParams, querystring: DownloadQuery } }, async (req, reply) => {
    const { id } = req.params;
    if (!o.recordings.verify(id, req.query.exp, req.query.sig)) throw new ShowcaseError('SHOWCASE_ERR_FORBIDDEN', 'invalid or expired download link');
    const file = o.recordings.mp4(id);
    if (!file) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'the recording is not available');
    reply.header('content-disposition', `attachment; filename="showcase-${id}.mp4"`);
    reply.header('cache-control', 'private, max-age=0');
    return sendFile(req, reply, file, 'video/mp4');
  });
}
