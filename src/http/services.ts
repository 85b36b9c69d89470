import fp from 'fastify-plugin';
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Store } from '../store/types.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import type { Authenticator } from './auth.js';
import type { HlsOrigin } from '../playback/hls/hls-origin.js';
import type { ViewerSessionTable } from '../metrics/session-table.js';
import type { WatchTicker } from '../metrics/watch-ticker.js';
import type { ShowcaseMetrics } from '../metrics/metrics-registry.js';
import type { AppMetrics } from '../metrics/app-collectors.js';
import type { AnalyticsPersistence } from '../metrics/analytics-persistence.js';
import type { StreamStatus } from '../metrics/stream-status.js';
import type { RecordingService } from '../recorder/recording-service.js';
import type { RtmpServer } from '../ingest/rtmp/rtmp-server.js';
import type { WhipIngest } from '../ingest/whip/whip-ingest.js';
import type { WhepPlayback } from '../playback/whep/whep-playback.js';
import type { SignalServer } from '../signaling/signal-server.js';
import type { PracticeGate } from '../journey/practice/practice-gate.js';
import type { ClusterNode } from '../cluster/cluster-node.js';
import type { NotifyService } from '../journey/notify/notify-service.js';

/**
 * The services route plugins use, each a fastify decorator registered once by the app (see
 * `provide`). The optional ones (recordings, whip, whep, signaling) exist only when that part is
 * enabled: a plugin that needs one lists `showcase-<name>` in its dependencies, one that can do
 * without asks `app.hasDecorator(name)`.
 */
export interface ShowcaseServices {
  /** The validated, frozen configuration (route settings: CORS origin, public base URL, limits). */
  config: Readonly<Config>;
  store: Store;
  registry: StreamRegistry;
  auth: Authenticator;
  origin: HlsOrigin;
  sessions: ViewerSessionTable;
  ticker: WatchTicker;
  metrics: ShowcaseMetrics;
  appMetrics: AppMetrics;
  analytics: AnalyticsPersistence;
  streamStatus: StreamStatus;
  rtmp: RtmpServer;
  recordings: RecordingService;
  whip: WhipIngest;
  whep: WhepPlayback;
  signaling: SignalServer;
  /** Practice mode's gate (src/journey/practice): which streams are hidden from whom, preview links. */
  practice: PracticeGate;
  /** Only when clustered (cluster.redisUrl): membership, placement, the HLS proxy. */
  cluster: ClusterNode;
  /** Notifications (src/journey/notify): the outbox writer and delivery worker, the VAPID key. */
  notify: NotifyService;
}

declare module 'fastify' {
  // Declaration merging: every service is typed on the instance (app.store, app.registry, ...).
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface FastifyInstance extends ShowcaseServices {}
}

/** The plugin name a service's decorator is registered under (what dependencies name). */
export function serviceName(name: keyof ShowcaseServices): string {
  return `showcase-${name}`;
}

/** A plugin that decorates the root instance with one service, named `showcase-<name>`. */
export function provide<K extends keyof ShowcaseServices>(name: K, value: ShowcaseServices[K]): FastifyPluginAsync {
  return fp(async (app) => {
    // decorate's typing cannot follow a generic key: the value is ShowcaseServices[K] by the signature.
    app.decorate(name, value as never);
  }, { name: serviceName(name), fastify: '5.x' });
}

/** Registers one `provide` plugin per service given (undefined ones are skipped: that part is off). */
export async function provideAll(app: { register(p: FastifyPluginAsync): PromiseLike<unknown> }, services: Partial<ShowcaseServices>): Promise<void> {
  for (const [name, value] of Object.entries(services) as Array<[keyof ShowcaseServices, ShowcaseServices[keyof ShowcaseServices]]>) {
    if (value !== undefined) await app.register(provide(name, value as never));
  }
}

/** The dependencies entry of a route plugin that reads these services. */
export function dependsOn(...names: Array<keyof ShowcaseServices>): string[] {
  return names.map(serviceName);
}
