/** Label values as prom-client takes them. */
export type LabelValues<T extends string> = Partial<Record<T, string | number>>;

/** The part of a prom-client Counter, Gauge, Histogram or Summary this helper uses. */
export interface StreamLabelledMetric<T extends string, Child> {
  labels(labels: LabelValues<T>): Child;
  remove(labels: LabelValues<T>): void;
}

/** Options of a StreamLabelSet. */
export interface StreamLabelSetOptions {
  /** Whether a stream currently carries series (the WatchTicker's isTracked). */
  isTracked: (streamId: string) => boolean;
  /** How long series of a stream that is not tracked survive (orphans: streams the ticker never saw). */
  graceMs: number;
}

interface StreamEntry {
  /** metric id + label values -> what to pass to remove(). */
  readonly series: Map<string, { metric: StreamLabelledMetric<string, unknown>; labels: LabelValues<string> }>;
  untrackedSinceMs: number | undefined;
}

/**
 * Bounds the `stream` label's cardinality for metrics that other parts of the server update
 * at event time (bytes ingested, parts served...): every child obtained through labels() is
 * remembered, and all of a stream's series are removed when the stream stops being tracked
 * (createMetricsRegistry calls dropStream when the WatchTicker drops it, and sweep every tick
 * for streams the ticker never tracked). prom-client can only remove a series by its full
 * label set, hence the bookkeeping. Get a child once per (stream, labels) and keep it: the
 * lookup here costs a sort and a join, too much per packet.
 */
export class StreamLabelSet {
  readonly graceMs: number;
  readonly #isTracked: (streamId: string) => boolean;
  readonly #streams = new Map<string, StreamEntry>();
  readonly #metricIds = new WeakMap<object, number>();
  #nextMetricId = 0;

  constructor(options: StreamLabelSetOptions) {
    this.#isTracked = options.isTracked;
    this.graceMs = options.graceMs;
  }

  /** The metric's child for these labels (which must include `stream`), remembered for removal. */
  labels<T extends string, Child>(metric: StreamLabelledMetric<T, Child>, labels: LabelValues<T> & { stream: string }): Child {
    const streamId = labels.stream;
    let entry = this.#streams.get(streamId);
    if (!entry) {
      entry = { series: new Map(), untrackedSinceMs: undefined };
      this.#streams.set(streamId, entry);
    }
    const key = `${this.#metricId(metric)}\u0000${seriesKey(labels)}`;
    if (!entry.series.has(key)) {
      entry.series.set(key, { metric: metric as StreamLabelledMetric<string, unknown>, labels: { ...labels } });
    }
    return metric.labels(labels);
  }

  /** Streams that have remembered series. */
  streams(): string[] {
    return [...this.#streams.keys()];
  }

  /** Series remembered for a stream. */
  seriesCount(streamId: string): number {
    return this.#streams.get(streamId)?.series.size ?? 0;
  }

  /** Removes every remembered series of a stream from its metric; returns how many. */
  dropStream(streamId: string): number {
    const entry = this.#streams.get(streamId);
    if (!entry) return 0;
    for (const { metric, labels } of entry.series.values()) metric.remove(labels);
    this.#streams.delete(streamId);
    return entry.series.size;
  }

  /** Drops streams that have not been tracked for graceMs; returns the ids dropped. */
  sweep(nowMs: number): string[] {
    const dropped: string[] = [];
    for (const [streamId, entry] of this.#streams) {
      if (this.#isTracked(streamId)) {
        entry.untrackedSinceMs = undefined;
        continue;
      }
      entry.untrackedSinceMs ??= nowMs;
      if (nowMs - entry.untrackedSinceMs >= this.graceMs) {
        this.dropStream(streamId);
        dropped.push(streamId);
      }
    }
    return dropped;
  }

  #metricId(metric: object): number {
    let id = this.#metricIds.get(metric);
    if (id === undefined) {
      id = this.#nextMetricId++;
      this.#metricIds.set(metric, id);
    }
    return id;
  }
}

/** A stable key for a label set (order-independent). */
function seriesKey(labels: Record<string, string | number | undefined>): string {
  return Object.keys(labels).sort().map((k) => `${k}=${String(labels[k])}`).join('\u0001');
}
