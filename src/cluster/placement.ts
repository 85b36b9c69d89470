import type { NodeInfo } from './node-membership.js';

/** Where a publisher is sent: one node's ingest URLs. */
export interface IngestPlacement {
  nodeId: string;
  rtmpUrl: string;
  /** Present when that node takes WHIP publishers. */
  whipUrl?: string;
}

export interface PlacementOptions {
  /** The nodes in the set now (NodeMembership.nodes: memory only, never Redis). */
  nodes: () => NodeInfo[];
  /** A placement handed out counts on its node for this long (until its stream shows in the node's load). */
  holdMs: number;
  /** Placements every node handed out to a node lately (NodeMembership.placedRecently); 0 when not shared. */
  shared?: (nodeId: string) => number;
  /**
   * Places atomically across the cluster (NodeMembership.reserve): given the candidates in order
   * of preference, resolves with the chosen id; when it rejects (Redis down) placement uses its own view.
   */
  reserve?: (candidates: ReadonlyArray<{ id: string; streams: number }>) => Promise<string>;
  now?: () => number;
}

/** Placements remembered per node at most (a burst of creates cannot grow memory). */
const MAX_HELD_PER_NODE = 10_000;

/**
 * Least-loaded placement: the node with the fewest streams, counting the placements handed out
 * lately (a burst of creates between two heartbeats would otherwise all land on the same node).
 * Clustered, the choice and its count are one atomic step in Redis (reserve), so creates through
 * several nodes at once spread too; when Redis is unreachable, this node's own placements and the
 * shared counts of the last heartbeat, the larger of the two. Then the least CPU, then a slow transcoder, then the id (deterministic ties).
 */
export class Placement {
  readonly #o: PlacementOptions;
  readonly #now: () => number;
  /** Per node id, when each recent placement was handed out (oldest first). */
  readonly #held = new Map<string, number[]>();

  constructor(o: PlacementOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  /** Picks the least-loaded node (cluster-wide through reserve, else from this node's view) and counts the placement on it. */
  async place(): Promise<IngestPlacement> {
    const nodes = this.#o.nodes();
    if (this.#o.reserve) {
      // Preference among equals: less CPU, a transcoder keeping up, then the id.
      const ordered = nodes.map((n) => ({ n, key: [0, round2(n.load.cpu), slow(n)] as [number, number, number] }))
        .sort((x, y) => (lessThan(x.key, x.n.id, y.key, y.n.id) ? -1 : 1)).map((x) => x.n);
      try {
        const id = await this.#o.reserve(ordered.map((n) => ({ id: n.id, streams: n.load.streams })));
        const node = ordered.find((n) => n.id === id);
        if (node) {
          this.#hold(node.id, this.#now());
          return ingestUrls(node);
        }
      } catch {
        // Redis unreachable: placed from this node's own view below.
      }
    }
    return this.placeLocally();
  }

  /** Picks from this node's view only: its own recent placements and the shared counts as of the last heartbeat. */
  placeLocally(): IngestPlacement {
    const now = this.#now();
    const nodes = this.#o.nodes();
    for (const id of this.#held.keys()) if (!nodes.some((n) => n.id === id)) this.#held.delete(id);
    let best: { node: NodeInfo; score: [number, number, number] } | undefined;
    for (const node of nodes) {
      const pending = Math.max(this.#recent(node.id, now), this.#o.shared?.(node.id) ?? 0);
      const score: [number, number, number] = [node.load.streams + pending, round2(node.load.cpu), slow(node)];
      if (!best || lessThan(score, node.id, best.score, best.node.id)) best = { node, score };
    }
    this.#hold(best!.node.id, now);
    return ingestUrls(best!.node);
  }

  #hold(id: string, now: number): void {
    const held = this.#held.get(id) ?? [];
    held.push(now);
    if (held.length > MAX_HELD_PER_NODE) held.shift();
    this.#held.set(id, held);
  }

  /** Placements on a node handed out within holdMs (older ones dropped). */
  #recent(id: string, now: number): number {
    const held = this.#held.get(id);
    if (!held) return 0;
    while (held.length && now - held[0]! >= this.#o.holdMs) held.shift();
    return held.length;
  }
}

/** A node's RTMP and WHIP URLs from its heartbeat. */
export function ingestUrls(node: NodeInfo): IngestPlacement {
  const host = node.rtmpHost.includes(':') ? `[${node.rtmpHost}]` : node.rtmpHost;
  return {
    nodeId: node.id,
    rtmpUrl: `rtmp://${host}:${node.rtmpPort}/${node.rtmpApp}`,
    ...(node.whip ? { whipUrl: `${node.url.replace(/\/+$/, '')}/whip` } : {}),
  };
}

/** 1 when a node's slowest transcoder falls behind real time (it counts against the node). */
function slow(n: NodeInfo): number {
  return n.load.transcoderSpeed > 0 && n.load.transcoderSpeed < 0.95 ? 1 : 0;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function lessThan(a: [number, number, number], aId: string, b: [number, number, number], bId: string): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return aId < bId;
}
