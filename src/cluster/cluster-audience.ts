import { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import type { MinuteBucket } from '../metrics/minute-timeline.js';
import type { StreamWatchSnapshot, StreamWatchTotals } from '../metrics/stream-watch-stats.js';
import type { TickInfo, WatchTicker } from '../metrics/watch-ticker.js';
import type { AnalyticsPeriodSource } from '../metrics/analytics-persistence.js';
import { BUCKETS, BUCKET_KEYS } from '../metrics/viewer-types.js';
import { formatShare, isEmptyShare, parseShare, sumShares, type AudienceShare, type AudienceTotals } from './audience-shares.js';

export interface ClusterAudienceOptions {
  redisUrl: string;
  keyPrefix: string;
  nodeId: string;
  /** A share older than this no longer counts (a dead node's share is gone within it); also the keys' TTL. */
  ttlMs: number;
  /** Streams written, read and remembered at most per tick. */
  maxStreams: number;
  /** This node's watch sessions (its ticker: each of its ticks drives one round trip). */
  ticker: WatchTicker;
  /** This node's room sockets per stream (the room server, once its plugin is up). */
  roomSockets: () => Iterable<readonly [string, number]>;
  /** Whether this node holds the stream live now (it then owns the stream's analytics). */
  holdsLive: (streamId: string) => boolean;
  logger: Logger;
}

/** This node's view of one tracked stream's analytics period: who writes it, and what the others added while this node did. */
interface Period {
  /** The analytics owner as last answered by Redis (undefined: never answered: this node writes as a single node). */
  owner: string | undefined;
  /** When this node last became the owner (table clock), 0 when it never was. */
  since: number;
  /** Another node owned the stream earlier in this period: this node's figures from before `since` are in that node's. */
  wasOther: boolean;
  /** The ticker's figures when this node took over from another owner (subtracted: they were counted there). */
  baseline?: { watch: number[]; minutes: Map<number, number> };
  /** The other nodes' watch seconds by bucket, added once per tick while this node owns the stream. */
  remoteWatch: number[];
  /** Per minute: the other nodes' viewer-seconds, the ticks they were added on, and the cluster-wide peak. */
  remoteMinutes: Map<number, { sum: number; ticks: number; peak: number }>;
  peak: number;
  peakAtMs: number | null;
}

const MINUTE_MS = 60_000;
/** A stream asked about (GET /v1/live, the analytics) is read every tick for this long after the last ask. */
const INTEREST_MS = 30_000;
/** Shares read on demand at most per call (refresh()). */
const MAX_REFRESH = 512;

/**
 * KEYS[1]: a stream's analytics-owner key. ARGV: this node, ttl ms, '1' when this node holds the
 * stream live (it takes the stream over). Keeps or takes ownership when free, own or forced; returns
 * the owner. One owner per stream at a time writes its analytics, adding the others' shares.
 */
const CLAIM_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] or cur == false or ARGV[3] == '1' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
return cur
`;
/** KEYS: owner keys; ARGV[1]: this node. Deletes those this node owns (a graceful stop). */
const RELEASE_SCRIPT = `
for _, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then redis.call('DEL', k) end
end
return 0
`;

/**
 * Viewer counts and watch sessions summed across the nodes of a cluster. Each tick of this node's
 * WatchTicker (1 s, off the media path: nothing of media awaits it) it writes, in one pipelined
 * round trip to Redis, its share of every stream it has viewers of (watch sessions by protocol and
 * mode, room sockets) into the stream's hash `<prefix>:audience:<streamId>` (a field per node,
 * stamped with the time, the key's TTL ttlMs), deletes the fields of streams it no longer has
 * viewers of, reads the hashes of the streams it tracks or was asked about, and claims or renews the
 * analytics ownership of the streams it tracks (`<prefix>:audience-owner:<streamId>`: the node
 * holding the stream live, else the first to claim). A share older than ttlMs does not count, so a
 * dead node's share is gone within ttlMs; during a Redis outage each node counts its own only.
 *
 * The owner of a stream's analytics adds the other nodes' shares to its own at each tick (watch
 * seconds, per-minute viewers, the cluster-wide peak) and persists the sum (AnalyticsPeriodSource);
 * the others write nothing for that stream. /metrics never reads any of this: each node's series
 * stay its own.
 */
export class ClusterAudience implements AnalyticsPeriodSource {
  readonly #o: ClusterAudienceOptions;
  readonly #redis: Redis;
  /** This node's shares at the last tick. */
  #local = new Map<string, AudienceShare>();
  /** Streams whose field this node wrote non-empty (deleted when they go empty). */
  readonly #published = new Set<string>();
  /** The other nodes' shares per stream, as last read (with the local time read). */
  readonly #remote = new Map<string, { readAt: number; shares: Map<string, AudienceShare> }>();
  /** Streams asked about lately (insertion order: oldest first). */
  readonly #interest = new Map<string, number>();
  /** Fields of other nodes seen stale: deleted at the next round trip. */
  #stale: Array<[string, string]> = [];
  readonly #periods = new Map<string, Period>();
  #inFlight = false;
  #healthy = true;
  #closed = false;
  #started = false;
  /** Round trips that failed (Redis unreachable). */
  failures = 0;
  /** Round trips done. */
  rounds = 0;
  readonly #onTick = (info: TickInfo): void => this.#tick(info);
  readonly #onDropped = (totals: StreamWatchTotals): void => void this.#periods.delete(totals.streamId);

  constructor(o: ClusterAudienceOptions) {
    this.#o = o;
    this.#redis = new Redis(o.redisUrl, {
      lazyConnect: true,
      // A share that cannot be written now is worthless later: fail at once, no queue through an outage.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: Math.max(500, o.ttlMs),
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    });
    this.#redis.on('error', () => undefined);
  }

  #key(streamId: string): string {
    return `${this.#o.keyPrefix}:audience:${streamId}`;
  }

  #ownerKey(streamId: string): string {
    return `${this.#o.keyPrefix}:audience-owner:${streamId}`;
  }

  /** Connects (a failure is retried by the client) and follows the ticker. */
  async start(): Promise<void> {
    if (this.#started || this.#closed) return;
    this.#started = true;
    // Connected before the first tick's round trip (a refused first connect is retried by the client).
    await this.#redis.connect().catch(() => undefined);
    if (this.#closed) return;
    this.#o.ticker.on('tick', this.#onTick);
    this.#o.ticker.on('streamdropped', this.#onDropped);
  }

  /** Whether the last round trip reached Redis. */
  get healthy(): boolean {
    return this.#healthy;
  }

  /**
   * A stream's audience summed over the nodes: this node's share at its last tick plus the other
   * nodes' fresh ones. Marks the stream as asked about (read every tick for a while).
   */
  totals(streamId: string): AudienceTotals {
    this.#want(streamId);
    const own = this.#local.get(streamId);
    return sumShares([...(own ? [own] : []), ...this.#fresh(streamId)]);
  }

  /** The room's viewer count: this node's sockets now plus the other nodes' fresh shares. */
  roomViewers(streamId: string, local: number): number {
    let n = local;
    for (const s of this.#fresh(streamId)) n += s.room;
    return n;
  }

  /** Reads now the shares of streams not read within the last tick (one round trip; errors leave what was known). */
  async refresh(streamIds: readonly string[]): Promise<void> {
    const now = Date.now();
    const ids: string[] = [];
    for (const id of new Set(streamIds)) {
      this.#want(id);
      if (ids.length < MAX_REFRESH && now - (this.#remote.get(id)?.readAt ?? 0) > 1000) ids.push(id);
    }
    if (!ids.length || this.#closed) return;
    try {
      const p = this.#redis.pipeline();
      for (const id of ids) p.hgetall(this.#key(id));
      const res = (await p.exec()) ?? [];
      ids.forEach((id, i) => this.#store(id, res[i]));
    } catch {
      // Redis out of reach: the last read stands until it ages out.
    }
  }

  /** The node that writes a stream's analytics now (undefined: none, or Redis out of reach). */
  async ownerOf(streamId: string): Promise<string | undefined> {
    const known = this.#periods.get(streamId)?.owner;
    if (known) return known;
    try {
      return (await this.#redis.get(this.#ownerKey(streamId))) ?? undefined;
    } catch {
      return undefined;
    }
  }

  /** The analytics hook (AnalyticsPersistence.periodSource): see the class comment. */
  period(streamId: string, snap: StreamWatchSnapshot, timeline: MinuteBucket[]): 'skip' | { key: string; snap: StreamWatchSnapshot; timeline: MinuteBucket[] } | undefined {
    const p = this.#periods.get(streamId);
    if (!p || p.owner === undefined) return undefined;
    if (p.owner !== this.#o.nodeId) return 'skip';
    const base = p.baseline;
    const watch = BUCKET_KEYS.map(([proto, mode], b) => snap.watchSeconds[proto][mode] - (base?.watch[b] ?? 0) + p.remoteWatch[b]!);
    const watchSeconds = { hls: { live: watch[0]!, replay: watch[2]! }, webrtc: { live: watch[1]!, replay: watch[3]! } };
    const byMinute = new Map<number, MinuteBucket>();
    for (const m of timeline) {
      const startMs = m.startMs;
      const ws = m.watchSeconds - (base?.minutes.get(startMs) ?? 0);
      if (base && base.minutes.has(startMs) && ws <= 0 && !p.remoteMinutes.has(startMs)) continue;
      byMinute.set(startMs, { ...m, watchSeconds: ws });
    }
    for (const [startMs, r] of p.remoteMinutes) {
      const m = byMinute.get(startMs) ?? { startMs, viewersAvg: 0, viewersPeak: 0, watchSeconds: 0, ticks: r.ticks };
      m.watchSeconds += r.sum;
      m.viewersPeak = Math.max(m.viewersPeak, r.peak);
      byMinute.set(startMs, m);
    }
    const merged = [...byMinute.values()].sort((a, b) => a.startMs - b.startMs).map((m) => ({ ...m, viewersAvg: m.ticks > 0 ? m.watchSeconds / m.ticks : 0 }));
    const peak = base ? p.peak : Math.max(p.peak, snap.peakViewers);
    const peakAtMs = base || p.peak >= snap.peakViewers ? p.peakAtMs : snap.peakAtMs;
    const total = watch.reduce((a, b) => a + b, 0);
    return {
      // A takeover starts a new base (the previous owner's last write); otherwise the period's own.
      key: base ? `${snap.trackedAtMs}:${p.since}` : String(snap.trackedAtMs),
      snap: { ...snap, watchSeconds, watchSecondsTotal: total, peakViewers: peak, peakAtMs },
      timeline: merged,
    };
  }

  #want(streamId: string): void {
    this.#interest.delete(streamId);
    this.#interest.set(streamId, Date.now());
    while (this.#interest.size > this.#o.maxStreams) this.#interest.delete(this.#interest.keys().next().value!);
  }

  /**
   * The other nodes' shares of a stream that still count: read within ttlMs, each written within
   * ttlMs of that read (#store keeps no others). Judged at the read, not now: a live node's share is
   * up to a tick old when read and another tick when used, so "now" would drop live shares.
   */
  #fresh(streamId: string, now = Date.now()): AudienceShare[] {
    const r = this.#remote.get(streamId);
    if (!r || now - r.readAt > this.#o.ttlMs) return [];
    return [...r.shares.values()];
  }

  /** Keeps one stream's hash as read (HGETALL's answer in a pipeline's [err, value] form). */
  #store(streamId: string, res: [Error | null, unknown] | undefined): void {
    if (!res || res[0] || typeof res[1] !== 'object' || res[1] === null) return;
    const now = Date.now();
    const shares = new Map<string, AudienceShare>();
    for (const [node, raw] of Object.entries(res[1] as Record<string, string>)) {
      if (node === this.#o.nodeId) continue;
      const s = parseShare(raw);
      if (s && now - s.at <= this.#o.ttlMs) shares.set(node, s);
      else if (this.#stale.length < this.#o.maxStreams) this.#stale.push([streamId, node]);
    }
    this.#remote.delete(streamId);
    this.#remote.set(streamId, { readAt: now, shares });
    while (this.#remote.size > this.#o.maxStreams) this.#remote.delete(this.#remote.keys().next().value!);
  }

  #tick(info: TickInfo): void {
    if (this.#closed) return;
    const o = this.#o;
    const now = Date.now();
    // This node's shares: the ticker's active sessions at this tick, and the room's sockets.
    const local = new Map<string, AudienceShare>();
    o.ticker.forEachStream((v) => {
      if (v.viewersTotal > 0 && local.size < o.maxStreams) local.set(v.streamId, { sessions: Array.from(v.viewers), room: 0, at: now });
    });
    for (const [id, n] of o.roomSockets()) {
      if (n <= 0) continue;
      const s = local.get(id);
      if (s) s.room = n;
      else if (local.size < o.maxStreams) local.set(id, { sessions: new Array<number>(BUCKETS).fill(0), room: n, at: now });
    }
    this.#local = local;
    // The streams this node tracks each have a period; the owner adds the others' shares to it.
    for (const id of o.ticker.trackedStreams()) if (!this.#periods.has(id)) this.#periods.set(id, newPeriod());
    o.ticker.forEachStream((v) => {
      const p = this.#periods.get(v.streamId);
      if (p?.owner === o.nodeId) this.#accumulate(p, v.streamId, v.viewersTotal, info.nowMs, now);
    });
    for (const [id, t] of this.#interest) {
      if (now - t <= INTEREST_MS) break;
      this.#interest.delete(id);
    }
    if (!this.#inFlight) void this.#round(info.nowMs);
  }

  #accumulate(p: Period, streamId: string, localTotal: number, tableNow: number, now: number): void {
    let remote = 0;
    for (const s of this.#fresh(streamId, now)) {
      for (let b = 0; b < BUCKETS; b++) p.remoteWatch[b]! += s.sessions[b]!;
      remote += s.sessions.reduce((a, n) => a + n, 0);
    }
    const total = localTotal + remote;
    const minute = Math.floor(tableNow / MINUTE_MS) * MINUTE_MS;
    const m = p.remoteMinutes.get(minute) ?? { sum: 0, ticks: 0, peak: 0 };
    m.sum += remote;
    m.ticks++;
    m.peak = Math.max(m.peak, total);
    p.remoteMinutes.set(minute, m);
    while (p.remoteMinutes.size > this.#o.ticker.timelineMinutes) p.remoteMinutes.delete(p.remoteMinutes.keys().next().value!);
    if (total > p.peak) {
      p.peak = total;
      p.peakAtMs = tableNow;
    }
  }

  /** One pipelined round trip: write this node's shares, read the streams of interest, claim ownership. */
  async #round(tableNow: number): Promise<void> {
    this.#inFlight = true;
    const o = this.#o;
    const pipe = this.#redis.pipeline();
    const written: string[] = [];
    for (const [id, s] of this.#local) {
      if (isEmptyShare(s)) continue;
      pipe.hset(this.#key(id), o.nodeId, formatShare(s)).pexpire(this.#key(id), o.ttlMs);
      written.push(id);
    }
    const emptied = [...this.#published].filter((id) => !this.#local.has(id));
    for (const id of emptied) pipe.hdel(this.#key(id), o.nodeId);
    const stale = this.#stale.splice(0);
    for (const [id, node] of stale) pipe.hdel(this.#key(id), node);
    const reads = [...new Set([...this.#local.keys(), ...this.#periods.keys(), ...this.#interest.keys()])].slice(0, o.maxStreams);
    const readAt = pipe.length;
    for (const id of reads) pipe.hgetall(this.#key(id));
    const claims = [...this.#periods.keys()];
    const claimAt = pipe.length;
    for (const id of claims) pipe.eval(CLAIM_SCRIPT, 1, this.#ownerKey(id), o.nodeId, o.ttlMs, o.holdsLive(id) ? '1' : '0');
    try {
      const res = (await pipe.exec()) ?? [];
      // Every command failed: Redis out of reach (a lone failed command is that command's).
      if (res.length > 0 && res.every(([err]) => err)) throw res[0]![0];
      for (const id of written) this.#published.add(id);
      for (const id of emptied) this.#published.delete(id);
      reads.forEach((id, i) => this.#store(id, res[readAt + i]));
      claims.forEach((id, i) => {
        const r = res[claimAt + i];
        if (r && !r[0] && typeof r[1] === 'string') this.#owned(id, r[1], tableNow);
      });
      if (!this.#healthy) o.logger.warn({ failures: this.failures }, 'cluster audience: Redis reachable again, viewer counts summed across nodes again');
      this.#healthy = true;
      this.rounds++;
    } catch (err) {
      this.failures++;
      if (this.#healthy) o.logger.error({ err, code: 'SHOWCASE_ERR_CLUSTER_REDIS_UNAVAILABLE' }, 'cluster audience: Redis unreachable, each node counts its own viewers until it is back');
      this.#healthy = false;
    } finally {
      this.#inFlight = false;
    }
  }

  /** Applies a claim's answer to a stream's period. */
  #owned(streamId: string, owner: string, tableNow: number): void {
    const p = this.#periods.get(streamId);
    if (!p) return;
    const self = this.#o.nodeId;
    if (owner === self && p.owner !== self) {
      p.since = tableNow;
      p.remoteWatch.fill(0);
      p.remoteMinutes.clear();
      p.peak = 0;
      p.peakAtMs = null;
      if (p.wasOther) {
        // Taking over: what this node counted so far is in the previous owner's figures already.
        const snap = this.#o.ticker.snapshot(streamId);
        const w = snap?.watchSeconds;
        p.baseline = {
          watch: BUCKET_KEYS.map(([proto, mode]) => w?.[proto][mode] ?? 0),
          minutes: new Map((this.#o.ticker.timeline(streamId) ?? []).map((m) => [m.startMs, m.watchSeconds])),
        };
      }
    } else if (owner !== self) {
      p.wasOther = true;
    }
    p.owner = owner;
  }

  /** Stops following the ticker, deletes this node's shares and owner keys (a graceful stop: its share is gone at once); idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.ticker.off('tick', this.#onTick);
    this.#o.ticker.off('streamdropped', this.#onDropped);
    try {
      const pipe = this.#redis.pipeline();
      for (const id of this.#published) pipe.hdel(this.#key(id), this.#o.nodeId);
      const owned = [...this.#periods].filter(([, p]) => p.owner === this.#o.nodeId).map(([id]) => this.#ownerKey(id));
      if (owned.length) pipe.eval(RELEASE_SCRIPT, owned.length, ...owned, this.#o.nodeId);
      if (pipe.length) await pipe.exec();
    } catch {
      // Redis down: the shares age out within ttlMs, the owner keys expire.
    }
    this.#redis.disconnect();
  }
}

function newPeriod(): Period {
  return { owner: undefined, since: 0, wasOther: false, remoteWatch: new Array<number>(BUCKETS).fill(0), remoteMinutes: new Map(), peak: 0, peakAtMs: null };
}
