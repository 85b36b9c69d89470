import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, waitFor, getText, ADMIN } from '../helpers/server.js';
import { publishRtmp, processAlive } from '../helpers/ffmpeg.js';


/** A server with one stream live from a real RTMP publisher, up to its multivariant playlist. */
async function liveRtmpStream(t: Test, overrides: Parameters<typeof startServer>[0]) {
  const srv = await startServer(overrides);
  t.teardown(() => srv.close());
  const { id, streamKey } = await srv.createStream();
  const pub = publishRtmp(`${srv.rtmp}/${streamKey}`, 30);
  t.teardown(() => pub.kill('SIGKILL'));
  await waitFor(async () => (await getText(`${srv.base}/hls/${id}/master.m3u8`)).status === 200, 'master');
  return { srv, id, pub, tc: srv.app.transcoders.get(id)! };
}

/** Resolves with the time of the transcoder's next restarted run. */
function nextRestart(tc: { on(e: 'run', fn: (r: { restart: boolean }) => void): unknown }): Promise<number> {
  return new Promise<number>((resolve) => tc.on('run', (r) => r.restart && resolve(Date.now())));
}

t.test('ffmpeg killed mid-stream is restarted; playlists carry a discontinuity and go on', async (t) => {
  const { srv, id, tc } = await liveRtmpStream(t, { transcode: { maxRestarts: 2, restartWindowMs: 60000, restartBackoffMs: 200 } });
  const firstPid = tc.pid!;
  t.ok(firstPid, 'ffmpeg running');
  const restarted = nextRestart(tc);
  const killedAt = Date.now();
  process.kill(firstPid, 'SIGKILL');
  const at = await restarted;
  t.ok(at - killedAt < 3000, `restarted within ${at - killedAt} ms`);
  t.not(tc.pid, firstPid, 'a new ffmpeg');
  const pl = await waitFor(async () => {
    const r = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`);
    return /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init2\.mp4"[\s\S]*#EXT-X-PART:[^\n]*URI="p\d+\.1\.m4s"/.test(r.text) ? r.text : undefined;
  }, 'discontinuity then new parts', 10000);
  t.notMatch(pl, /ENDLIST/);
  t.equal((await srv.api('GET', `/v1/streams/${id}`)).json.state, 'live', 'stream still live');

  // Repeated crashes back off and then report an error state.
  for (let i = 0; i < 2; i++) {
    const pid = await waitFor(() => (tc.state === 'running' && tc.pid !== undefined ? tc.pid : undefined), 'running ffmpeg', 10000, 50);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => tc.pid !== pid || tc.state === 'failed', 'ffmpeg gone', 10000, 50);
  }
  await waitFor(() => tc.state === 'failed', 'failed state', 10000, 50);
  const view = await srv.api('GET', `/v1/streams/${id}`);
  t.equal(view.json.live.transcoder, 'failed', 'the stream reports the transcoder failure');
  t.ok(srv.logs.find((l) => l.code === 'SHOWCASE_ERR_TRANSCODER_FAILED'), 'logged with its code');
});

t.test('a hung ffmpeg (input arriving, no media out) is killed by the stall watchdog and restarted', async (t) => {
  const { srv, id, tc } = await liveRtmpStream(t, { transcode: { stallTimeoutMs: 2000, restartBackoffMs: 100 } });
  const hungPid = tc.pid!;
  const restarted = nextRestart(tc);
  // A stopped process is the hang in its purest form: it holds its pipes and sockets, reads and writes nothing.
  const hungAt = Date.now();
  process.kill(hungPid, 'SIGSTOP');
  t.teardown(() => { try { process.kill(hungPid, 'SIGKILL'); } catch { /* gone */ } });
  const at = await restarted;
  t.ok(at - hungAt >= 2000 && at - hungAt < 8000, `restarted ${at - hungAt} ms after the hang (watchdog 2000 ms)`);
  t.not(tc.pid, hungPid, 'a new ffmpeg');
  await waitFor(() => !processAlive(hungPid), 'the hung ffmpeg is gone', 5000, 50);
  const log = srv.logs.find((l) => l.code === 'SHOWCASE_ERR_TRANSCODER_STALLED');
  t.ok(log, 'logged with its code');
  t.ok((log?.silentMs as number) >= 2000, `silent for ${String(log?.silentMs)} ms`);
  await waitFor(async () => /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init2\.mp4"[\s\S]*#EXT-X-PART:[^\n]*URI="p\d+\.1\.m4s"/.test((await getText(`${srv.base}/hls/${id}/180p/index.m3u8`)).text), 'media again after the restart', 10000);
  const metrics = (await getText(`${srv.base}/metrics`)).text;
  t.match(metrics, new RegExp(`showcase_transcoder_stalls_total\\{stream="${id}"\\} 1\\n`), 'counted in /metrics');
  t.match(metrics, new RegExp(`showcase_transcoder_restarts_total\\{stream="${id}"\\} 1\\n`), 'and as a restart');
  t.equal(tc.state, 'running');
});

t.test('a publisher that goes quiet is not a stall: ffmpeg is left alone', async (t) => {
  const { srv, pub, tc } = await liveRtmpStream(t, { transcode: { stallTimeoutMs: 1000 } });
  const pid = tc.pid!;
  process.kill(pub.pid!, 'SIGSTOP');
  t.teardown(() => { try { process.kill(pub.pid!, 'SIGCONT'); } catch { /* gone */ } });
  await new Promise((r) => setTimeout(r, 3000));
  t.equal(tc.pid, pid, 'the same ffmpeg after 3 s without input (watchdog 1000 ms)');
  t.equal(tc.stalls, 0, 'no stall counted');
  t.notOk(srv.logs.find((l) => l.code === 'SHOWCASE_ERR_TRANSCODER_STALLED'), 'none logged');
});

t.test('OBS drops and reconnects within the grace period: the same stream continues', async (t) => {
  const srv = await startServer({ streams: { reconnectGraceMs: 8000 } });
  t.teardown(() => srv.close());
  const { id, streamKey } = await srv.createStream();
  const first = publishRtmp(`${srv.rtmp}/${streamKey}`, 30);
  await waitFor(async () => (await getText(`${srv.base}/hls/${id}/master.m3u8`)).status === 200, 'master');
  // A second publisher on the live key is refused.
  const second = publishRtmp(`${srv.rtmp}/${streamKey}`, 3);
  t.not(await second.done, 0, 'second publisher refused');
  t.ok(srv.logs.find((l) => l.code === 'SHOWCASE_ERR_RTMP_ALREADY_PUBLISHING'), 'refusal logged');
  // The first one dies without unpublishing (network drop).
  first.kill('SIGKILL');
  await first.done;
  await waitFor(() => srv.app.registry.get(id)?.publisher === undefined, 'publisher detached');
  t.equal((await srv.api('GET', `/v1/streams/${id}`)).json.state, 'live', 'still live during the grace period');
  const again = publishRtmp(`${srv.rtmp}/${streamKey}`, 5);
  const pl = await waitFor(async () => {
    const r = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`);
    return /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init2\.mp4"/.test(r.text) ? r.text : undefined;
  }, 'continued with a discontinuity', 15000);
  t.notMatch(pl, /ENDLIST/);
  t.equal(await again.done, 0);
  await waitFor(async () => (await srv.api('GET', `/v1/streams/${id}`)).json.state === 'ended', 'ended after the clean stop');
  const fin = await waitFor(async () => {
    const r = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`);
    return r.text.includes('#EXT-X-ENDLIST') ? r.text : undefined;
  }, 'ENDLIST after the final flush', 10000);
  t.match(fin, /#EXT-X-DISCONTINUITY/, 'one playlist across both connections');
});

t.test('a publisher whose socket went silent is replaced by its reconnect (no "already publishing")', async (t) => {
  const srv = await startServer({ rtmp: { deadPublisherMs: 1500 } });
  t.teardown(() => srv.close());
  const { id, streamKey } = await srv.createStream();
  const first = publishRtmp(`${srv.rtmp}/${streamKey}`, 30);
  t.teardown(() => first.kill('SIGKILL'));
  await waitFor(() => srv.app.origin.get(id)?.ready(), 'live');
  // Freeze the first publisher: its TCP connection stays open but sends nothing (a dead OBS link).
  process.kill(first.pid!, 'SIGSTOP');
  await new Promise((r) => setTimeout(r, 2000));
  const second = publishRtmp(`${srv.rtmp}/${streamKey}`, 4);
  t.equal(await second.done, 0, 'the reconnecting publisher is accepted');
  t.ok(srv.logs.find((l) => l.msg === 'publisher takes over from a dead connection'), 'takeover logged');
  process.kill(first.pid!, 'SIGCONT');
  first.kill('SIGKILL');
  const pl = await waitFor(async () => {
    const r = await getText(`${srv.base}/hls/${id}/180p/index.m3u8`);
    return r.text.includes('#EXT-X-ENDLIST') ? r.text : undefined;
  }, 'ENDLIST', 10000);
  t.match(pl, /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init2\.mp4"/, 'the same stream continued');
});

t.test('SIGTERM kills ffmpeg children, interrupts the live stream (for the next process) and exits cleanly', { skip: !existsSync('dist/src/main.js') && 'run npm run build first' }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'showcase-sigterm-'));
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    env: { ...process.env, SHOWCASE_HTTP_PORT: '0', SHOWCASE_RTMP_PORT: '0', SHOWCASE_DATA_DIR: dataDir, SHOWCASE_ADMIN_TOKEN: ADMIN, SHOWCASE_HTTP_HOST: '127.0.0.1', SHOWCASE_RTMP_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const ports = await waitFor(() => {
    const m = /"httpPort":(\d+),"rtmpPort":(\d+)/.exec(out);
    return m ? { http: Number(m[1]), rtmp: Number(m[2]) } : undefined;
  }, 'server listening');
  const base = `http://127.0.0.1:${ports.http}`;
  const created = await fetch(`${base}/v1/streams`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'sigterm' }) }).then((r) => r.json());
  // The default ladder on a 180p source: one rendition at the source height.
  const pub = publishRtmp(`rtmp://127.0.0.1:${ports.rtmp}/live/${created.streamKey}`, 30);
  t.teardown(() => pub.kill('SIGKILL'));
  const master = await waitFor(async () => {
    const r = await getText(`${base}/hls/${created.id}/master.m3u8`);
    return r.status === 200 ? r.text : undefined;
  }, 'master');
  t.match(master, /RESOLUTION=320x180/);
  const ffmpegPids = await waitFor(async () => {
    const { execFileSync } = await import('node:child_process');
    const pids = execFileSync('pgrep', ['-P', String(child.pid), 'ffmpeg']).toString().trim().split('\n').map(Number).filter(Boolean);
    return pids.length ? pids : undefined;
  }, 'ffmpeg child');
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'exit code 0');
  for (const pid of ffmpegPids) t.notOk(processAlive(pid), `ffmpeg ${pid} is gone`);
  // A deploy does not end the show: the stream waits for its publisher in the next process
  // (test/e2e/deploy-reconnect.test.ts continues it).
  t.match(out, /"state":"interrupted"/, 'the stream was interrupted, not ended');
  t.notMatch(out, /"state":"ended"/, 'and not ended');
  t.match(out, /showcase stopped/);
});
