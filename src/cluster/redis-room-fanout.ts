import { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import { InProcessFanout, type RoomEvent, type RoomFanout } from '../room/room-fanout.js';

export interface RedisRoomFanoutOptions {
  redisUrl: string;
  keyPrefix: string;
  nodeId: string;
  logger: Logger;
}

/** A room event on the bus is small (chat text is capped); anything larger is not ours. */
const MAX_MESSAGE_BYTES = 65_536;

/**
 * The room's fan-out across nodes, over Redis pub/sub (one channel per stream,
 * `<prefix>:room:<streamId>`), behind the room's RoomFanout interface. An event published here is
 * delivered to this node's sockets at once (in-process, never waiting on Redis) and published to the
 * channel; every other node subscribed to the stream (it has sockets watching it) delivers it to
 * its own; this node skips its own echo. A node subscribes to a stream's channel with its first local
 * subscriber and unsubscribes with its last, so Redis carries a stream only to nodes that watch it.
 * Order per stream: each node's events keep their order everywhere (one connection publishes them);
 * events of two nodes at the same moment may interleave differently on each. A Redis outage: local
 * delivery goes on, events to other nodes are dropped and counted (logged once); ioredis
 * re-subscribes on reconnect.
 */
export class RedisRoomFanout implements RoomFanout {
  readonly #o: RedisRoomFanoutOptions;
  readonly #local = new InProcessFanout();
  readonly #pub: Redis;
  readonly #sub: Redis;
  /** Local subscribers per stream (a channel is subscribed while its count is above 0). */
  readonly #counts = new Map<string, number>();
  #healthy = true;
  #closed = false;
  /** Events that could not be published to other nodes (Redis unreachable). */
  dropped = 0;
  /** Events received from other nodes. */
  received = 0;

  constructor(o: RedisRoomFanoutOptions) {
    this.#o = o;
    const common = { lazyConnect: true, retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000) };
    // Publishing fails at once while disconnected (no queue growing through an outage).
    this.#pub = new Redis(o.redisUrl, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000 });
    // The subscriber queues its (UN)SUBSCRIBEs through an outage: at most one per stream watched here.
    this.#sub = new Redis(o.redisUrl, { ...common, maxRetriesPerRequest: null });
    this.#pub.on('error', () => undefined);
    this.#sub.on('error', () => undefined);
    this.#sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.#onMessage(channel.toString(), message));
  }

  /** Connects both connections (a failure is retried by the client; local delivery works meanwhile). */
  async start(): Promise<void> {
    await Promise.all([this.#pub.connect().catch(() => undefined), this.#sub.connect().catch(() => undefined)]);
  }

  #channel(streamId: string): string {
    return `${this.#o.keyPrefix}:room:${streamId}`;
  }

  /** Delivers to this node's subscribers now and to the other nodes' through Redis. */
  publish(streamId: string, event: RoomEvent): void {
    this.#local.publish(streamId, event);
    if (this.#closed) return;
    this.#pub.publish(this.#channel(streamId), JSON.stringify({ n: this.#o.nodeId, e: event })).then(() => {
      if (!this.#healthy) this.#o.logger.warn({ dropped: this.dropped }, 'room events reach other nodes again');
      this.#healthy = true;
    }, (err: unknown) => {
      this.dropped++;
      if (this.#healthy) this.#o.logger.error({ err, code: 'SHOWCASE_ERR_CLUSTER_REDIS_UNAVAILABLE' }, 'room event not published to other nodes (Redis unreachable); local sockets still get it');
      this.#healthy = false;
    });
  }

  /** Adds a local subscriber; the stream's channel is subscribed with the first. */
  subscribe(streamId: string, fn: (event: RoomEvent) => void): () => void {
    const off = this.#local.subscribe(streamId, fn);
    const n = (this.#counts.get(streamId) ?? 0) + 1;
    this.#counts.set(streamId, n);
    if (n === 1 && !this.#closed) this.#sub.subscribe(this.#channel(streamId)).catch((err: unknown) => this.#o.logger.warn({ err, streamId }, 'room channel subscribe failed'));
    let done = false;
    return () => {
      if (done) return;
      done = true;
      off();
      const left = (this.#counts.get(streamId) ?? 1) - 1;
      if (left > 0) return void this.#counts.set(streamId, left);
      this.#counts.delete(streamId);
      if (!this.#closed) this.#sub.unsubscribe(this.#channel(streamId)).catch(() => undefined);
    };
  }

  #onMessage(channel: string, message: Buffer): void {
    const prefix = `${this.#o.keyPrefix}:room:`;
    if (!channel.startsWith(prefix) || message.length > MAX_MESSAGE_BYTES) return;
    let parsed: { n?: unknown; e?: RoomEvent };
    try {
      parsed = JSON.parse(message.toString('utf8')) as typeof parsed;
    } catch {
      return;
    }
    if (parsed.n === this.#o.nodeId || typeof parsed.e !== 'object' || parsed.e === null || typeof parsed.e.type !== 'string') return;
    this.received++;
    this.#local.publish(channel.slice(prefix.length), parsed.e);
  }

  /** Drops every subscription and closes both connections; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#local.close();
    this.#counts.clear();
    this.#pub.disconnect();
    this.#sub.disconnect();
  }
}
