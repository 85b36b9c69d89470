import { resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from '../core/logger.js';
import type { HlsOrigin } from '../hls/hls-origin.js';
import type { Store } from '../store/types.js';
import { RecordingConfigSchema, resolveRecordingConfig, type RecordingConfig } from './recording-config.js';
import { RecordingService } from './recording-service.js';
import { ShowcaseError } from '../core/errors.js';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Authenticator } from '../http/auth.js';
import { installErrorHandling } from '../http/error-handler.js';
import { hlsRoutes } from '../http/hls-routes.js';
import { recordingRoutes } from '../http/recording-routes.js';

/** The parts of a running ShowcaseApp the recorder needs (structural: no import of app.ts). */
export interface RecorderHost {
  readonly config: { readonly dataDir: string; readonly transcode: { readonly ffmpegPath: string } };
  readonly log: Logger;
  readonly store: Store;
  readonly origin: HlsOrigin;
}

/** Builds the RecordingService of an app from its config (`recording` section, defaults applied), overrides on top. */
export function createRecordingService(app: RecorderHost, overrides: Partial<RecordingConfig> = {}): RecordingService {
  const config = { ...resolveRecordingConfig(app.config), ...overrides };
  if (!Value.Check(RecordingConfigSchema, config)) throw new ShowcaseError('SHOWCASE_ERR_CONFIG_INVALID', 'invalid recording overrides');
  return new RecordingService({
    dataDir: resolve(app.config.dataDir),
    config,
    ffmpegPath: app.config.transcode.ffmpegPath,
    store: app.store,
    origin: app.origin,
    logger: app.log.child({ component: 'recorder' }),
  });
}

/**
 * Records every stream of an app that is already running: builds the service and starts it (it
 * hooks the HLS origin's 'stream' event). Routes are a fastify plugin (recordingRoutes) and the
 * replay is hls-routes' `vod` option, both registered before the app listens.
 */
export async function attachRecorder(app: RecorderHost, overrides: Partial<RecordingConfig> = {}): Promise<RecordingService> {
  const svc = createRecordingService(app, overrides);
  await svc.start();
  return svc;
}

/**
 * Serves the recorder's HTTP side on its own listener for an app that is already listening
 * (Fastify cannot add routes after listen): the recording routes and the HLS routes over the app's
 * live origin with the replay fallback. Used by tests, and by a deployment that wants downloads on
 * a separate port; in the server proper both plugins are registered on the main listener.
 */
export async function serveRecorder(app: RecorderHost & { readonly auth: Authenticator }, svc: RecordingService, listen: { host: string; port: number }): Promise<{ http: FastifyInstance; base: string }> {
  const http = Fastify({ ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } } });
  installErrorHandling(http);
  await http.register(hlsRoutes, { origin: app.origin, corsOrigin: '*', vod: (id, rendition, file) => svc.vodFile(id, rendition, file) });
  await http.register(recordingRoutes, { store: app.store, auth: app.auth, recordings: svc, publicBaseUrl: '' });
  await http.listen(listen);
  const addr = http.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : listen.port;
  return { http, base: `http://${listen.host}:${port}` };
}
