import { Type } from '@sinclair/typebox';

/** One level's monthly threshold: minutes streamed (live, non-practice) and attributed sales. */
function LevelThresholdSchema(minutes: number, sales: number) {
  return Type.Object({
    minutes: Type.Integer({ minimum: 0, maximum: 44_640, default: minutes }),
    sales: Type.Integer({ minimum: 0, maximum: 1_000_000, default: sales }),
  }, { additionalProperties: false, default: {} });
}

/** The creator's journey settings (`journey.*`): scheduling, practice previews, discovery. */
export const JourneyConfigSchema = Type.Object({
  /** How long a practice stream's preview link (GET /v1/streams/:id/preview) stays valid. */
  previewTtlSeconds: Type.Integer({ minimum: 60, maximum: 604_800, default: 3600 }),
  /** A stream scheduled this long ago that has not gone live still shows as upcoming (running late). */
  upcomingGraceMs: Type.Integer({ minimum: 0, maximum: 86_400_000, default: 3_600_000 }),
  /** The most streams GET /v1/live lists in each of live and upcoming. */
  liveListLimit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  /** Stream practice flags cached in memory (the flag never changes after creation). */
  practiceCacheSize: Type.Integer({ minimum: 100, maximum: 1_000_000, default: 50_000 }),
  /** How long a creator's level and public card (name, follower count) are kept in memory for listings (GET /v1/live, storefronts, product placements). */
  levelCacheMs: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 60_000 }),
  /** Creators whose level and card are kept in memory at once (least recently used evicted). */
  levelCacheSize: Type.Integer({ minimum: 10, maximum: 1_000_000, default: 10_000 }),
  /** GET /v1/products/:ref/streams lists streams that ended up to this many days ago (and live ones). */
  productStreamsRecentDays: Type.Integer({ minimum: 1, maximum: 365, default: 30 }),
  /** What each earned level needs in one calendar month (UTC); see src/journey/levels/creator-levels.ts. */
  levels: Type.Object({
    insider: LevelThresholdSchema(300, 5),
    aList: LevelThresholdSchema(1000, 25),
  }, { additionalProperties: false, default: {} }),
}, { additionalProperties: false, default: {} });
