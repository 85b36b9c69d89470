/**
 * Runs every benchmark in one process, one after another, and prints their figures side by side
 * with the targets. Run: npm run build && node dist/bench/run.js [--only name,name] [--quick]
 * Each benchmark is also runnable alone (node dist/bench/<name>.js).
 */
interface Row { bench: string; figure: string; value: string; target: string }

const only = (() => {
  const i = process.argv.indexOf('--only');
  return i > 0 ? new Set(process.argv[i + 1]!.split(',')) : undefined;
})();
const quick = process.argv.includes('--quick');
const rows: Row[] = [];

async function section(name: string, fn: () => Promise<void>): Promise<void> {
  if (only && !only.has(name)) return;
  const t0 = Date.now();
  try {
    await fn();
  } catch (err) {
    rows.push({ bench: name, figure: 'error', value: String((err as Error).message).slice(0, 120), target: '' });
  }
  process.stderr.write(`bench ${name} took ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

await section('origin-latency', async () => {
  const { runOriginLatencyBench } = await import('./origin-latency.js');
  const r = await runOriginLatencyBench({ seconds: quick ? 20 : 40, height: 720 });
  rows.push(
    { bench: 'origin-latency', figure: 'part target', value: `${r.partTargetMs} ms`, target: '' },
    { bench: 'origin-latency', figure: 'origin latency p50 / p95 (sampled)', value: `${r.sampledP50Ms} / ${r.sampledP95Ms} ms`, target: `<= ${r.partTargetMs + 300} ms` },
    { bench: 'origin-latency', figure: 'origin latency at part arrival p50 / p95', value: `${r.atArrivalP50Ms} / ${r.atArrivalP95Ms} ms`, target: '' },
    { bench: 'origin-latency', figure: 'Node CPU / ffmpeg CPU', value: `${(r.nodeToFfmpegCpuRatio * 100).toFixed(2)} % (${r.nodeCpuPerStreamSecond} vs ${r.ffmpegCpuPerStreamSecond} CPU-s per s)`, target: '<= 5 %' },
    { bench: 'origin-latency', figure: 'ladder', value: `${r.renditions.join(',')} from ${r.sourceHeight}p`, target: '' },
  );
});

await section('webrtc-capacity', async () => {
  const { runWebRtcCapacityBench } = await import('./webrtc-capacity.js');
  const r = await runWebRtcCapacityBench({ quick });
  const cap = (c: typeof r.bare): string => `${c.capacityConsumers}${c.saturated ? '' : '+'}`;
  rows.push(
    { bench: 'webrtc-capacity', figure: 'consumers per worker at saturation, bare / showcase', value: `${cap(r.bare)} / ${cap(r.showcase)}`, target: '' },
    { bench: 'webrtc-capacity', figure: 'showcase / bare consumer capacity', value: `${(r.capacityRatio * 100).toFixed(1)} %`, target: '>= 90 %' },
    { bench: 'webrtc-capacity', figure: 'worker CPU per consumer, bare / showcase', value: `${r.bare.cpuPerConsumerPct} / ${r.showcase.cpuPerConsumerPct} % of a core`, target: '' },
    { bench: 'webrtc-capacity', figure: 'machine at start', value: `load ${r.loadAvgAtStart}, ${r.othersBusyPct} % busy on ${r.cores} cores${r.quiet ? '' : ' (not quiet: indicative only)'}`, target: '' },
  );
});

await section('highlight-to-screen', async () => {
  const { runHighlightToScreenBench } = await import('./highlight-to-screen.js');
  const r = await runHighlightToScreenBench({ quick });
  const b = 'highlight-to-screen';
  rows.push(
    { bench: b, figure: `timeline: POST to pop-up p50 / p95 (${r.highlights} highlights, ${r.missed} missed)`, value: `${r.popupP50Ms} / ${r.popupP95Ms} ms`, target: '= live latency +- 250 ms' },
    { bench: b, figure: 'player live latency (now - hls.playingDate) p50 / p95', value: `${r.liveLatencyP50Ms} / ${r.liveLatencyP95Ms} ms`, target: '' },
    { bench: b, figure: 'pop-up p50 minus live latency p50', value: `${r.popupP50MinusLatencyP50Ms} ms`, target: '|x| <= 250 ms' },
    { bench: b, figure: 'pushed event: POST to the page p50 / p95', value: `${r.pushedP50Ms} / ${r.pushedP95Ms} ms`, target: '' },
    { bench: b, figure: 'pushed design early by p50 / p95', value: `${r.pushedEarlyP50Ms} / ${r.pushedEarlyP95Ms} ms`, target: '~ live latency' },
  );
});

await section('room', async () => {
  const { runRoomBench } = await import('./room.js');
  const r = await runRoomBench(quick ? { sockets: 2000, seconds: 10, idleSeconds: 10 } : {});
  rows.push(
    { bench: 'room', figure: `send to last receiver p50 / p99 (${r.sockets} sockets, ${r.messagesSent} messages)`, value: `${r.lastReceiverP50Ms} / ${r.lastReceiverP99Ms} ms`, target: 'p99 < 250 ms' },
    { bench: 'room', figure: 'server CPU per 1,000 sockets', value: `${r.serverCpuPer1000Sockets} cores`, target: '' },
    { bench: 'room', figure: 'memory per socket (RSS / heap+external)', value: `${r.rssBytesPerSocket} / ${r.heapBytesPerSocket} B`, target: '< 20 KB' },
    { bench: 'room', figure: 'origin latency p50 idle room / under load', value: `${r.originIdle.sampledP50Ms} / ${r.originLoad.sampledP50Ms} ms`, target: 'within 50 ms' },
  );
});

for (const [name, file, fn] of [
  ['rtmp-ingest', './rtmp-ingest.js', 'runRtmpIngestBench'],
  ['density', './density.js', 'runDensityBench'],
  ['metrics-watch', './metrics-watch.js', 'runMetricsBench'],
  ['recording-finalize', './recording-finalize.js', 'runRecordingFinalizeBench'],
  ['watch-latency', './watch-latency.js', 'runWatchLatencyBench'],
  ['webrtc-latency', './webrtc-latency.js', 'runWebRtcLatencyBench'],
  ['commerce-playlist', './commerce-playlist.js', 'runCommercePlaylistBench'],
  ['cluster', './cluster.js', 'runClusterBench'],
  ['notify-fanout', './notify-fanout.js', 'runNotifyFanoutBench'],
] as const) {
  await section(name, async () => {
    let mod: Record<string, unknown>;
    try {
      mod = await import(file);
    } catch {
      rows.push({ bench: name, figure: 'not built', value: '-', target: '' });
      return;
    }
    const run = mod[fn] as (o?: Record<string, unknown>) => Promise<Record<string, unknown>>;
    const r = await run(quick ? { quick: true, seconds: 10, streams: 5 } : {});
    // One level of nesting (watch-latency's players, density's modes) becomes "group.figure" rows.
    const flat = Object.entries(r).flatMap(([k, v]) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v).map(([k2, v2]) => [`${k}.${k2}`, v2] as const) : [[k, v] as const]));
    for (const [k, v] of flat) rows.push({ bench: name, figure: k, value: typeof v === 'number' ? String(Number(v.toFixed(3))) : JSON.stringify(v), target: '' });
  });
}

console.table(rows);
process.exit(0);
