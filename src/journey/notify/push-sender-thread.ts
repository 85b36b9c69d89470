/**
 * The push sender's worker thread: each message's encryption (an ECDH key pair, HKDF and
 * AES-128-GCM per RFC 8291) and its HTTP request run here, on a thread of their own, so a
 * 100,000-follower fan-out never holds up the main event loop that serves the live streams.
 * Started by ThreadedPushSender (threaded-push-sender.ts); one request, one answer, by id.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { PushSubscriptionRecord } from '../../store/notify-types.js';
import { PushSender, type PushSenderOptions } from './push-sender.js';

/** A request from the main thread. */
export interface PushThreadRequest {
  id: number;
  sub: PushSubscriptionRecord;
  payload: string;
}

// The lowest CPU priority for this thread only (Linux: setpriority on the thread's id): on a busy
// machine the transcoders' ffmpeg and the main event loop go first, and the fan-out takes what is left.
try {
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), 19);
} catch {
  /* not Linux, or not allowed: the thread runs at the process's priority */
}

const sender = new PushSender(workerData as PushSenderOptions);
parentPort!.on('message', (m: PushThreadRequest) => {
  void sender.send(m.sub, m.payload).then(
    (result) => parentPort!.postMessage({ id: m.id, result }),
    (err: unknown) => parentPort!.postMessage({ id: m.id, result: { kind: 'retry', error: `push thread: ${(err as Error).message}` } }),
  );
});
