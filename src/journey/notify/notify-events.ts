import { createHash } from 'node:crypto';
import type { OutboxRecord } from '../../store/notify-types.js';
import type { WEBHOOK_EVENTS } from './notify-config.js';

/** The event types webhooks carry (issue 15). */
export type NotifyEventType = (typeof WEBHOOK_EVENTS)[number];

/**
 * One thing that happened, as the outbox writes it. `key` names the occurrence (stream.live of
 * stream X): rows made from the same key get the same ids, so writing an event twice (a reconnect,
 * a retried request, two nodes) sends it once.
 */
export interface NotifyEvent {
  type: NotifyEventType;
  key: string;
  /** When it happened (ms): the envelope's timestamp. */
  at: number;
  data: Record<string, unknown>;
}

/** A configured endpoint, as the writer needs it. */
export interface EndpointTarget {
  url: string;
  events?: readonly string[];
}

/** The push message a follower's service worker shows (its JSON is what is encrypted). */
export interface PushMessage {
  type: 'stream.live';
  title: string;
  body: string;
  /** Opened on click: the watch page (relative to the site when publicBaseUrl is empty). */
  url: string;
  streamId: string;
  /** Replaces an earlier notification of the same stream on the device. */
  tag: string;
}

/** What a push fan-out job carries: whose followers, and the message. */
export interface PushFanoutJob {
  creatorId: string;
  message: PushMessage;
}

const hashId = (prefix: string, text: string): string => prefix + createHash('sha256').update(text).digest('base64url').slice(0, 32);

/** The Standard Webhooks message id of an event at one endpoint (`msg_...`, stable across writes and retries). */
export function webhookId(eventKey: string, endpointUrl: string): string {
  return hashId('msg_', `${eventKey}\n${endpointUrl}`);
}

/** A webhook body: the Standard Webhooks envelope {type, timestamp, data}. */
export function webhookBody(e: NotifyEvent): string {
  return JSON.stringify({ type: e.type, timestamp: new Date(e.at).toISOString(), data: e.data });
}

/** One pending row per endpoint that takes this event type. */
export function webhookRows(e: NotifyEvent, endpoints: readonly EndpointTarget[], now: number): OutboxRecord[] {
  const body = webhookBody(e);
  const seen = new Set<string>();
  const rows: OutboxRecord[] = [];
  for (const ep of endpoints) {
    if (seen.has(ep.url) || (ep.events && !ep.events.includes(e.type))) continue;
    seen.add(ep.url);
    rows.push(pendingRow(webhookId(e.key, ep.url), 'webhook', ep.url, e.type, body, now));
  }
  return rows;
}

/** The one fan-out job of a go-live. */
export function pushFanoutRow(eventKey: string, job: PushFanoutJob, now: number): OutboxRecord {
  return pendingRow(hashId('pushjob_', eventKey), 'push-fanout', job.creatorId, 'stream.live', JSON.stringify(job), now);
}

/** A single push message kept for retry (its first attempt failed in a way worth retrying). */
export function pushRetryRow(jobId: string, subscriptionId: string, message: PushMessage, attemptedAt: number, nextAttemptAt: number, error: string): OutboxRecord {
  return {
    ...pendingRow(hashId('push_', `${jobId}\n${subscriptionId}`), 'push', subscriptionId, message.type, JSON.stringify(message), attemptedAt),
    attempts: 1, nextAttemptAt, lastError: error,
  };
}

function pendingRow(id: string, kind: OutboxRecord['kind'], target: string, eventType: string, payload: string, now: number): OutboxRecord {
  return { id, kind, target, eventType, payload, state: 'pending', attempts: 0, nextAttemptAt: now, cursor: null, lastError: null, createdAt: now, updatedAt: now };
}

/** A watch page URL: absolute under publicBaseUrl, else the site-relative path. */
export function watchUrl(publicBaseUrl: string, streamId: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/watch/${encodeURIComponent(streamId)}`;
}
