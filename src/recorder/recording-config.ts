import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ShowcaseError } from '../core/errors.js';

/**
 * The `recording` section of the configuration (src/config/schema.ts holds it as
 * `recording: RecordingConfigSchema`): what is kept, where, for how long, and the safety floors.
 */
export const RecordingConfigSchema = Type.Object({
  /** Record every live stream. */
  enabled: Type.Boolean({ default: true }),
  /** Where recordings live; empty: <dataDir>/recordings. */
  dir: Type.String({ default: '' }),
  /**
   * Renditions kept (names from transcode.ladder); empty keeps all. The MP4 comes from the highest
   * kept rendition: source passthrough is not offered, the server only has transcoded renditions.
   */
  renditions: Type.Array(Type.String({ pattern: '^[a-z0-9_-]{1,16}$' }), { default: [], maxItems: 8 }),
  /** Recordings of streams that ended longer ago than this are deleted; 0 keeps them forever. */
  retentionDays: Type.Number({ minimum: 0, default: 30 }),
  /** How often the retention sweep runs. */
  sweepIntervalMs: Type.Integer({ minimum: 1000, default: 3_600_000 }),
  /** Free bytes below which no recording starts and a running one stops (the live stream goes on). */
  minFreeBytes: Type.Integer({ minimum: 0, default: 1024 * 1024 * 1024 }),
  /** How often a running recording re-checks free space (at most once per this many ms). */
  diskCheckIntervalMs: Type.Integer({ minimum: 100, default: 5000 }),
  /** Bytes of media waiting for the disk per stream before the recording stops (disk too slow). */
  maxQueuedBytes: Type.Integer({ minimum: 1024 * 1024, default: 64 * 1024 * 1024 }),
  /** Lifetime of a signed download link. */
  linkTtlSeconds: Type.Integer({ minimum: 10, maximum: 7 * 24 * 3600, default: 3600 }),
  /** HMAC key for download links; empty: generated once and kept in <dataDir>/recording-secret (0600). */
  linkSecret: Type.String({ default: '' }),
  /** A remux to MP4 that takes longer than this is killed and the recording marked failed. */
  finalizeTimeoutMs: Type.Integer({ minimum: 1000, default: 600_000 }),
  /** On shutdown, how long a running finalize may still take before its ffmpeg is killed (it resumes at the next start). */
  shutdownGraceMs: Type.Integer({ minimum: 0, default: 3000 }),
}, { additionalProperties: false, default: {} });

/** The recording configuration with every default applied. */
export type RecordingConfig = Static<typeof RecordingConfigSchema>;

/**
 * The recording config from the server config, with defaults filled in: works whether or not the
 * server's schema carries the `recording` section yet (then every default applies).
 */
export function resolveRecordingConfig(config: unknown): RecordingConfig {
  const raw = (config as { recording?: unknown } | undefined)?.recording ?? {};
  const value = Value.Default(RecordingConfigSchema, structuredClone(raw)) as RecordingConfig;
  if (!Value.Check(RecordingConfigSchema, value)) {
    const first = [...Value.Errors(RecordingConfigSchema, value)][0];
    throw new ShowcaseError('SHOWCASE_ERR_CONFIG_INVALID', `recording${first?.path ?? ''}: ${first?.message ?? 'invalid'}`);
  }
  return value;
}
