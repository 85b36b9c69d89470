import type { RoomMinuteCounts } from '../store/types.js';

/** The `room` block of GET /v1/streams/:id/analytics: totals and per-minute counts of chat messages and reactions. */
export function roomAnalyticsBlock(minutes: readonly RoomMinuteCounts[]): Record<string, unknown> {
  let messages = 0;
  let reactions = 0;
  for (const m of minutes) {
    messages += m.messages;
    reactions += m.reactions;
  }
  return {
    messages,
    reactions,
    timeline: minutes.map((m) => ({ minute: new Date(m.startMs).toISOString(), messages: m.messages, reactions: m.reactions })),
  };
}
