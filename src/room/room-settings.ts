/**
 * A room's moderation settings, kept in the stream record's `extra.room` (so every node reads the
 * same) and set with PATCH /v1/streams/:id/room.
 */
export interface RoomSettings {
  /** An author's messages at least this many seconds apart (0: off). The host and the operator are exempt. */
  slowModeSeconds: number;
  /** A closed room refuses shoppers' chat (the host and the operator still speak). */
  open: boolean;
}

/** The longest slow mode, in seconds. */
export const MAX_SLOW_MODE_SECONDS = 3600;

/** The settings of a stream from its record's extra, defaults where absent or malformed. */
export function roomSettingsFromExtra(extra: Record<string, unknown>): RoomSettings {
  const v = extra.room;
  const o = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  const slow = typeof o.slowModeSeconds === 'number' && Number.isInteger(o.slowModeSeconds) ? o.slowModeSeconds : 0;
  return { slowModeSeconds: Math.min(Math.max(slow, 0), MAX_SLOW_MODE_SECONDS), open: o.open !== false };
}
