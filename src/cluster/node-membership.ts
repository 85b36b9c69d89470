import { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';

/** What a node tells the others about itself and its load, every heartbeat. */
export interface NodeInfo {
  id: string;
  /** Its node.url: where other nodes proxy HLS to and where WHIP publishers are sent. */
  url: string;
  /** Host and port of its RTMP ingest, and the RTMP app name. */
  rtmpHost: string;
  rtmpPort: number;
  rtmpApp: string;
  /** Whether it takes WHIP publishers. */
  whip: boolean;
  load: NodeLoad;
  /** Its wall clock when it wrote this heartbeat. */
  at: number;
}

/** A node's load, as placement weighs it. */
export interface NodeLoad {
  /** Live streams it transcodes now. */
  streams: number;
  /** Host CPU use: 1-minute load average per core (0..~1, more when overloaded). */
  cpu: number;
  /** The slowest of its streams' transcoder speeds (1 = real time), 0 when it transcodes nothing. */
  transcoderSpeed: number;
}

export interface NodeMembershipOptions {
  redisUrl: string;
  keyPrefix: string;
  heartbeatMs: number;
  nodeTtlMs: number;
  maxNodes: number;
  /** How long a placement handed out by any node counts on its target (cluster.placementHoldMs). */
  placementHoldMs: number;
  /** This node's heartbeat, built fresh each time (its load changes). */
  self: () => NodeInfo;
  logger: Logger;
}

/**
 * This node's membership of the cluster, in Redis: every heartbeatMs it writes
 * `<prefix>:node:<id>` (its NodeInfo as JSON, with a TTL of nodeTtlMs) and adds its id to the set
 * `<prefix>:nodes`, then reads every member's key; a member whose key expired (it stopped
 * heartbeating) is removed from the set. What was read is kept in memory, so placement and the
 * HLS proxy never wait on Redis. A Redis outage is logged once, retried every heartbeat (the
 * client reconnects with a capped backoff), and meanwhile the last view ages out to this node alone.
 */
export class NodeMembership {
  readonly #o: NodeMembershipOptions;
  readonly #redis: Redis;
  #timer?: NodeJS.Timeout;
  #beat?: Promise<void>;
  #closed = false;
  /** The others as last read, with the local time each was read at. */
  #peers = new Map<string, { info: NodeInfo; seenAt: number }>();
  #healthy = true;
  /** Per node id, the placements any node handed out to it within placementHoldMs, as of the last heartbeat. */
  #placed = new Map<string, number>();
  #placeSeq = 0;
  /** Heartbeats that failed (a Redis outage), for tests and logs. */
  failures = 0;
  /** Heartbeats written since start. */
  #beats = 0;

  constructor(o: NodeMembershipOptions) {
    this.#o = o;
    this.#redis = new Redis(o.redisUrl, {
      lazyConnect: true,
      // Commands fail at once while disconnected instead of queueing: a heartbeat that cannot be
      // written now is worthless later, and a queue would grow through an outage.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // Generous against a busy event loop (a false outage is noise in the log), short of the TTL.
      commandTimeout: Math.max(1000, Math.floor(o.nodeTtlMs / 3)),
      connectTimeout: Math.max(500, o.heartbeatMs),
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    });
    // ioredis reports every failed reconnect as an 'error' event; the heartbeat logs the outage once.
    this.#redis.on('error', () => undefined);
  }

  /** Connects and writes the first heartbeat (a failure is logged and retried), then beats on a timer. */
  async start(): Promise<void> {
    try {
      await this.#redis.connect();
    } catch {
      // Logged by the first heartbeat; the client keeps reconnecting.
    }
    await this.heartbeat();
    this.#timer = setInterval(() => void this.heartbeat(), this.#o.heartbeatMs);
    this.#timer.unref();
  }

  /** Writes this node's heartbeat and reads the others', once (concurrent calls share it). */
  heartbeat(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#beat ??= this.#heartbeat().finally(() => { this.#beat = undefined; });
    return this.#beat;
  }

  async #heartbeat(): Promise<void> {
    const { keyPrefix: p, nodeTtlMs, maxNodes } = this.#o;
    const self = this.#o.self();
    try {
      await this.#redis.multi().set(`${p}:node:${self.id}`, JSON.stringify(self), 'PX', nodeTtlMs).sadd(`${p}:nodes`, self.id).exec();
      // SRANDMEMBER with a count bounds what one heartbeat reads, however large the set grew.
      const ids = (await this.#redis.srandmember(`${p}:nodes`, maxNodes)).filter((id) => id !== self.id);
      const values = ids.length ? await this.#redis.mget(ids.map((id) => `${p}:node:${id}`)) : [];
      const now = Date.now();
      const gone: string[] = [];
      const peers = new Map<string, { info: NodeInfo; seenAt: number }>();
      ids.forEach((id, i) => {
        const info = parseNodeInfo(values[i]);
        if (info && info.id === id) peers.set(id, { info, seenAt: now });
        else gone.push(id);
      });
      if (gone.length) {
        await this.#redis.srem(`${p}:nodes`, ...gone);
        for (const id of gone) if (this.#peers.has(id)) this.#o.logger.info({ nodeId: id }, 'cluster node left (its heartbeat expired)');
      }
      for (const id of peers.keys()) if (!this.#peers.has(id)) this.#o.logger.info({ nodeId: id, url: peers.get(id)!.info.url }, 'cluster node joined');
      this.#peers = peers;
      // The placements every node handed out lately, per target: what placement adds to a node's
      // streams until they show in its load (a burst of creates through several nodes).
      const targets = [self.id, ...peers.keys()];
      const floor = Date.now() - this.#o.placementHoldMs;
      const m = this.#redis.multi();
      for (const id of targets) m.zremrangebyscore(`{${p}}:placed:${id}`, '-inf', floor).zcard(`{${p}}:placed:${id}`);
      const counts = (await m.exec()) ?? [];
      this.#placed = new Map(targets.map((id, i) => [id, Number(counts[i * 2 + 1]?.[1] ?? 0)]));
      if (!this.#healthy) this.#o.logger.warn({ failures: this.failures }, 'cluster Redis reachable again: heartbeats resumed');
      this.#healthy = true;
      this.#beats++;
    } catch (err) {
      this.failures++;
      if (this.#healthy) {
        this.#o.logger.error({ err, code: 'SHOWCASE_ERR_CLUSTER_REDIS_UNAVAILABLE' }, 'cluster Redis unreachable: heartbeat not written; media goes on, retrying every heartbeat');
      }
      this.#healthy = false;
    }
  }

  /**
   * Places one publisher atomically for the whole cluster (a Lua script in Redis): among the
   * candidates, in order of preference, the first with the fewest streams plus placements any node
   * handed out within placementHoldMs, which then counts this one. Rejects when Redis is
   * unreachable (the caller places from its own view). The keys share a hash tag (one slot).
   */
  async reserve(candidates: ReadonlyArray<{ id: string; streams: number }>): Promise<string> {
    const p = this.#o.keyPrefix;
    const keys = candidates.map((c) => `{${p}}:placed:${c.id}`);
    const member = `${this.#o.self().id}:${++this.#placeSeq}:${Date.now()}`;
    const index = await this.#redis.eval(RESERVE_SCRIPT, keys.length, ...keys, Date.now(), this.#o.placementHoldMs, member, ...candidates.map((c) => c.streams)) as number;
    const chosen = candidates[index - 1];
    if (!chosen) throw new Error(`placement script answered ${String(index)}`);
    return chosen.id;
  }

  /** Placements any node handed out to this node id lately, as of the last heartbeat. */
  placedRecently(id: string): number {
    return this.#placed.get(id) ?? 0;
  }

  /**
   * Whether a node has left the cluster, asked of Redis now: its heartbeat key expired (it has not
   * heartbeated for nodeTtlMs). False whenever that cannot be known: Redis unreachable, or this
   * node has not written a heartbeat yet. One round trip; for decisions taken before media flows.
   */
  async isGone(id: string): Promise<boolean> {
    if (this.#closed || !this.#healthy || this.#beats === 0 || id === this.#o.self().id) return false;
    try {
      return (await this.#redis.exists(`${this.#o.keyPrefix}:node:${id}`)) === 0;
    } catch {
      return false;
    }
  }

  /** Whether the last heartbeat reached Redis. */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** This node and every other node whose heartbeat was read within nodeTtlMs (this node first). */
  nodes(now = Date.now()): NodeInfo[] {
    const out = [this.#o.self()];
    for (const { info, seenAt } of this.#peers.values()) if (now - seenAt < this.#o.nodeTtlMs) out.push(info);
    return out;
  }

  /**
   * A peer as last read from Redis, however long ago (undefined if never seen or gone from the set):
   * while Redis is out of reach a node cannot tell a dead peer from an unreachable bus, so callers
   * that have other proof of life (an unexpired lease in the store) may still use its address.
   */
  lastKnown(id: string): NodeInfo | undefined {
    return this.#peers.get(id)?.info;
  }

  /** One node by id, when it is in the set (this node included). */
  node(id: string, now = Date.now()): NodeInfo | undefined {
    return this.nodes(now).find((n) => n.id === id);
  }

  /** Stops heartbeating and leaves the set at once (its key deleted), so no placement lands here; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#timer);
    await this.#beat;
    this.#closed = true;
    const { keyPrefix: p } = this.#o;
    const id = this.#o.self().id;
    try {
      await this.#redis.multi().del(`${p}:node:${id}`).srem(`${p}:nodes`, id).exec();
    } catch {
      // Redis down: the key expires by itself within nodeTtlMs.
    }
    this.#redis.disconnect();
  }
}

/**
 * KEYS: each candidate's sorted set of recent placements, in order of preference. ARGV: now,
 * holdMs, this placement's member, then each candidate's live streams. Prunes, scores, picks the
 * first lowest, records the placement on it; returns its 1-based index. Atomic: two nodes placing
 * at the same moment see each other's placements.
 */
const RESERVE_SCRIPT = `
local now, hold = tonumber(ARGV[1]), tonumber(ARGV[2])
local best, bestScore = 1, nil
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - hold)
  local score = redis.call('ZCARD', key) + tonumber(ARGV[3 + i])
  if bestScore == nil or score < bestScore then best, bestScore = i, score end
end
redis.call('ZADD', KEYS[best], now, ARGV[3])
redis.call('PEXPIRE', KEYS[best], hold)
return best
`;

/** A heartbeat value read from Redis, or undefined when missing or not one of ours. */
function parseNodeInfo(raw: string | null | undefined): NodeInfo | undefined {
  if (!raw || raw.length > 16_384) return undefined;
  try {
    const v = JSON.parse(raw) as NodeInfo;
    if (typeof v.id !== 'string' || typeof v.url !== 'string' || typeof v.load !== 'object' || v.load === null) return undefined;
    return v;
  } catch {
    return undefined;
  }
}
