/// <reference lib="dom" />
/**
 * Publishes the camera and microphone with mediasoup-client over the signaling socket: join with
 * the stream key, load the Device with the router's capabilities, one send transport, one producer
 * per track. The server takes the stream live once both tracks are produced.
 */
import { Device } from 'mediasoup-client';
import type { types } from 'mediasoup-client';
import { SignalClient, SignalError, type SignalNotice } from './signal-client.js';

/** The transport fields the server's createTransport answers with. */
type TransportParams = Pick<types.TransportOptions, 'id' | 'iceParameters' | 'iceCandidates' | 'dtlsParameters'>;

export interface PublishEvents {
  /** The send transport's connection state (new, connecting, connected, failed, disconnected, closed). */
  onConnectionState(state: string): void;
  /** The server ended the stream or the socket closed: the page shows why. */
  onEnded(reason: string, code: string): void;
}

/** One go-live: stop() ends it (the stream ends at once, no reconnect wait). */
export class StudioPublisher {
  readonly streamId: string;
  readonly codecs: string[];
  readonly #signal: SignalClient;
  readonly #transport: types.Transport;
  readonly #producers: types.Producer[];
  #stopped = false;

  private constructor(streamId: string, signal: SignalClient, transport: types.Transport, producers: types.Producer[]) {
    this.streamId = streamId;
    this.#signal = signal;
    this.#transport = transport;
    this.#producers = producers;
    this.codecs = producers.map((p) => p.rtpParameters.codecs[0]?.mimeType ?? '?');
  }

  /** Goes live with these tracks; rejects with a SignalError (bad key, already live, ...) and cleans up. */
  static async start(streamKey: string, media: MediaStream, events: PublishEvents): Promise<StudioPublisher> {
    const signal = await SignalClient.open();
    let transport: types.Transport | undefined;
    let publisher: StudioPublisher | undefined;
    const ended = (reason: string, code: string): void => {
      if (publisher && !publisher.#stopped) {
        publisher.#stopped = true;
        publisher.#closeLocal();
        events.onEnded(reason, code);
      }
    };
    signal.onNotice = (n: SignalNotice) => ended(n.reason, n.code);
    signal.onClose = (reason) => ended(reason, 'SHOWCASE_ERR_SIGNAL_LOST');
    try {
      const tracks = [...media.getAudioTracks().slice(0, 1), ...media.getVideoTracks().slice(0, 1)];
      if (!tracks.some((t) => t.kind === 'video')) throw new SignalError('SHOWCASE_ERR_VALIDATION', 'no camera track to send');
      const kinds = tracks.map((t) => t.kind);
      const joined = await signal.request<{ streamId: string }>('join', { role: 'publisher', streamKey, kinds });
      const { rtpCapabilities } = await signal.request<{ rtpCapabilities: types.RtpCapabilities }>('getRouterRtpCapabilities');
      const device = new Device();
      await device.load({ routerRtpCapabilities: rtpCapabilities });
      if (!device.canProduce('video')) throw new SignalError('SHOWCASE_ERR_VALIDATION', 'this browser cannot send any video codec the server takes');
      const params = await signal.request<TransportParams>('createTransport');
      const t = device.createSendTransport(params);
      transport = t;
      t.on('connect', ({ dtlsParameters }, done, fail) => {
        signal.request('connectTransport', { transportId: t.id, dtlsParameters }).then(() => done(), fail);
      });
      t.on('produce', ({ kind, rtpParameters }, done, fail) => {
        signal.request<{ id: string }>('produce', { transportId: t.id, kind, rtpParameters }).then((r) => done({ id: r.id }), fail);
      });
      t.on('connectionstatechange', (state) => events.onConnectionState(state));
      const producers: types.Producer[] = [];
      // Audio first, video last: the server goes live on the last one, with both in the same ladder.
      for (const track of tracks) {
        producers.push(await t.produce({
          track,
          // The preview keeps its camera after Stop.
          stopTracks: false,
          ...(track.kind === 'video'
            // One layer (the server transcodes the ladder itself); capped so a phone's uplink copes.
            ? { encodings: [{ maxBitrate: 2_500_000 }], codecOptions: { videoGoogleStartBitrate: 1000 } }
            : { codecOptions: { opusStereo: false, opusDtx: false } }),
        }));
      }
      publisher = new StudioPublisher(joined.streamId, signal, t, producers);
      return publisher;
    } catch (err) {
      transport?.close();
      signal.close();
      throw err;
    }
  }

  /**
   * Sends another camera on the same producer (front/back switch while live): no renegotiation,
   * the server's producer, ladder and viewers carry on; the encoder starts the new picture on a keyframe.
   */
  async replaceVideoTrack(track: MediaStreamTrack): Promise<void> {
    const video = this.#producers.find((p) => p.kind === 'video');
    if (!video || video.closed) throw new SignalError('SHOWCASE_ERR_SIGNAL_STATE', 'not publishing video');
    await video.replaceTrack({ track });
  }

  /** The send transport's stats (bytes sent, frames encoded) for the page's status line. */
  async videoStats(): Promise<{ framesEncoded: number; bytesSent: number }> {
    const out = { framesEncoded: 0, bytesSent: 0 };
    const video = this.#producers.find((p) => p.kind === 'video');
    if (!video || video.closed) return out;
    (await video.getStats()).forEach((r: { type: string; framesEncoded?: number; bytesSent?: number }) => {
      if (r.type === 'outbound-rtp') {
        out.framesEncoded += r.framesEncoded ?? 0;
        out.bytesSent += r.bytesSent ?? 0;
      }
    });
    return out;
  }

  /** Ends the stream: tells the server (the stream ends now), then closes everything here. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      await this.#signal.request('unpublish');
    } catch {
      /* the socket is gone already: the server ends the stream after its reconnect grace */
    }
    this.#closeLocal();
  }

  #closeLocal(): void {
    for (const p of this.#producers) if (!p.closed) p.close();
    if (!this.#transport.closed) this.#transport.close();
    this.#signal.close();
  }
}
