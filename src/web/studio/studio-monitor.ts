/// <reference lib="dom" />
/**
 * Watches a live stream over the signaling socket with mediasoup-client (sub-second, unlike the
 * LL-HLS watch page): join as a viewer, load the Device with the edge router's capabilities, one
 * receive transport, a paused consumer per track, resumed once it is set up here.
 */
import { Device } from 'mediasoup-client';
import type { types } from 'mediasoup-client';
import { SignalClient } from './signal-client.js';

type TransportParams = Pick<types.TransportOptions, 'id' | 'iceParameters' | 'iceCandidates' | 'dtlsParameters'>;
type ConsumeAnswer = { id: string; producerId: string; kind: 'audio' | 'video'; rtpParameters: types.RtpParameters };

export class StudioMonitor {
  readonly media: MediaStream;
  /** Milliseconds from join to the consumers resumed. */
  readonly setupMs: number;
  readonly #signal: SignalClient;
  readonly #transport: types.Transport;
  readonly #consumers: types.Consumer[];

  private constructor(signal: SignalClient, transport: types.Transport, consumers: types.Consumer[], setupMs: number) {
    this.#signal = signal;
    this.#transport = transport;
    this.#consumers = consumers;
    this.setupMs = setupMs;
    this.media = new MediaStream(consumers.map((c) => c.track));
  }

  /** Starts watching; onEnded is called once when the server ends it or the socket closes. */
  static async start(streamId: string, onEnded: (reason: string) => void): Promise<StudioMonitor> {
    const t0 = performance.now();
    const signal = await SignalClient.open();
    let transport: types.Transport | undefined;
    signal.onNotice = (n) => onEnded(n.reason);
    signal.onClose = (reason) => onEnded(reason);
    try {
      const joined = await signal.request<{ kinds: Array<'audio' | 'video'> }>('join', { role: 'viewer', streamId });
      const { rtpCapabilities } = await signal.request<{ rtpCapabilities: types.RtpCapabilities }>('getRouterRtpCapabilities');
      const device = new Device();
      await device.load({ routerRtpCapabilities: rtpCapabilities });
      const t = device.createRecvTransport(await signal.request<TransportParams>('createTransport'));
      transport = t;
      t.on('connect', ({ dtlsParameters }, done, fail) => {
        signal.request('connectTransport', { transportId: t.id, dtlsParameters }).then(() => done(), fail);
      });
      const consumers: types.Consumer[] = [];
      for (const kind of joined.kinds) {
        const a = await signal.request<ConsumeAnswer>('consume', { transportId: t.id, kind, rtpCapabilities: device.recvRtpCapabilities });
        consumers.push(await t.consume({ id: a.id, producerId: a.producerId, kind: a.kind, rtpParameters: a.rtpParameters }));
      }
      // Resume after the local consumers exist, so the first keyframe is not lost to a missing receiver.
      for (const c of consumers) await signal.request('resume', { consumerId: c.id });
      return new StudioMonitor(signal, t, consumers, Math.round(performance.now() - t0));
    } catch (err) {
      transport?.close();
      signal.close();
      throw err;
    }
  }

  /** Decoded video frames so far (inbound-rtp framesDecoded). */
  async framesDecoded(): Promise<number> {
    const video = this.#consumers.find((c) => c.kind === 'video');
    if (!video || video.closed) return 0;
    let frames = 0;
    (await video.getStats()).forEach((r: { type: string; kind?: string; framesDecoded?: number }) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') frames = r.framesDecoded ?? 0;
    });
    return frames;
  }

  /** Stops watching (the server releases the viewer's place). */
  stop(): void {
    for (const c of this.#consumers) if (!c.closed) c.close();
    if (!this.#transport.closed) this.#transport.close();
    this.#signal.close();
  }
}
