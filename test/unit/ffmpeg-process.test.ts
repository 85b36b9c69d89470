// FfmpegProcess.writePacket, the input bound shared by the transcoder and the RTMP-to-WebRTC feed:
// a child that does not read fills the pipe, packets past the bound are dropped until a video
// keyframe finds the queue drained below half. The child is a shell script standing in for ffmpeg
// (it ignores the run's arguments): asleep first, then reading everything.
import t from 'tap';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { FfmpegProcess } from '../../src/transcode/ffmpeg-process.js';
import type { MediaPacket } from '../../src/core/media.js';

const dir = mkdtempSync(join(tmpdir(), 'showcase-ffproc-'));
const fake = join(dir, 'fake-ffmpeg');
// fluent-ffmpeg first asks the binary for its formats and codecs: the real ffmpeg answers those.
writeFileSync(fake, '#!/bin/sh\ncase " $* " in *" -i "*) sleep 1; exec cat > /dev/null ;; *) exec ffmpeg "$@" ;; esac\n');
chmodSync(fake, 0o755);
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const packet = (keyframe: boolean): MediaPacket => ({ kind: 'video', payload: Buffer.alloc(32 * 1024), timestamp: 0, keyframe, sequenceHeader: false });

t.test('past the bound packets are dropped until a keyframe finds the queue drained', async (t) => {
  const proc = new FfmpegProcess({ ffmpegPath: fake, inputFormat: 'flv', inputOptions: [], outputs: [{ url: '/dev/null', options: [] }], killGraceMs: 500, logger: pino({ level: 'silent' }) });
  t.teardown(() => proc.kill('SIGKILL'));
  const spawned = new Promise<void>((r) => proc.once('spawn', () => r()));
  proc.start();
  await spawned;
  const max = 64 * 1024;
  const results: string[] = [];
  // The pipe takes ~64 KiB, then 64 KiB may wait on stdin; the next packet starts a drop period.
  for (let i = 0; i < 12 && !results.includes('overflow'); i++) results.push(proc.writePacket(packet(i === 0), max));
  t.equal(results[results.length - 1], 'overflow', `the bound is reached (${results.join(',')})`);
  t.ok(proc.queuedBytes > max, `${proc.queuedBytes} bytes wait on stdin`);
  t.equal(proc.writePacket(packet(false), max), 'dropped', 'a delta frame is dropped');
  t.equal(proc.writePacket(packet(true), max), 'dropped', 'a keyframe too while the queue is still full');
  // The child starts reading: once the queue is under half the bound the next keyframe is written.
  const deadline = Date.now() + 10000;
  while (proc.queuedBytes >= max / 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.ok(proc.queuedBytes < max / 2, 'the queue drained');
  t.equal(proc.writePacket(packet(false), max), 'dropped', 'still dropping until a keyframe');
  t.equal(proc.writePacket(packet(true), max), 'written', 'the keyframe ends the drop period');
  t.equal(proc.writePacket(packet(false), max), 'written', 'and what follows is written');
});
