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
  /** Called with each placement's target (NodeMembership.notePlacement shares it). */
  placed?: (nodeId: string) => void;
  now?: () => number;
}

/** Placements remembered per node at most (a burst of creates cannot grow memory). */
const MAX_HELD_PER_NODE = 10_000;

/**
 * Least-loaded placement: the node with the fewest streams, counting the placements handed out
 * lately (a burst of creates between two heartbeats would otherwise all land on the same node):
 * this node's own at once, every node's as of the last heartbeat (shared in Redis), the larger of
 * the two; then the least CPU, then a slow transcoder, then the id (deterministic ties).
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

  /** Picks the least-loaded node and counts the placement on it; returns its ingest URLs. */
  place(): IngestPlacement {
    const now = this.#now();
    const nodes = this.#o.nodes();
    for (const id of this.#held.keys()) if (!nodes.some((n) => n.id === id)) this.#held.delete(id);
    let best: { node: NodeInfo; score: [number, number, number] } | undefined;
    for (const node of nodes) {
      const pending = Math.max(this.#recent(node.id, now), this.#o.shared?.(node.id) ?? 0);
      const score: [number, number, number] = [node.load.streams + pending, round2(node.load.cpu), node.load.transcoderSpeed > 0 && node.load.transcoderSpeed < 0.95 ? 1 : 0];
      if (!best || lessThan(score, node.id, best.score, best.node.id)) best = { node, score };
    }
    const node = best!.node;
    const held = this.#held.get(node.id) ?? [];
    held.push(now);
    if (held.length > MAX_HELD_PER_NODE) held.shift();
    this.#held.set(node.id, held);
    this.#o.placed?.(node.id);
    return ingestUrls(node);
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

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function lessThan(a: [number, number, number], aId: string, b: [number, number, number], bId: string): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return aId < bId;
}
