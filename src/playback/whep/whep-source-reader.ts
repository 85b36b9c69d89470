import type { LiveStream, PublisherMedia, StreamReader } from '../../core/live-stream.js';
import type { WhepPlayback } from './whep-playback.js';

/**
 * WebRTC playback as a reader of one stream: a publisher whose media is RTP producers (a phone over
 * WHIP or the studio) becomes the stream's WHEP source at once, and stops being it when the
 * publisher leaves. Packet-form publishers (RTMP) are not offered to it: their producers come from
 * the RTMP-to-WebRTC feed, a reader of packets that WHEP asks for on a viewer's first request.
 */
export class WhepSourceReader implements StreamReader {
  readonly name = 'whep';
  readonly consumes = ['rtp'] as const;
  readonly #playback: WhepPlayback;
  /** The stream whose source this reader set (only that one is removed again). */
  #streamId?: string;

  constructor(playback: WhepPlayback) {
    this.#playback = playback;
  }

  onPublisherStart(stream: LiveStream, media: PublisherMedia): void {
    if (media.form !== 'rtp' || !media.rtp.router || media.rtp.producers.length === 0) return;
    this.#streamId = stream.id;
    // No requestKeyFrame: a viewer's PLI reaches these producers through mediasoup by itself.
    this.#playback.setSource({ streamId: stream.id, router: media.rtp.router, producers: [...media.rtp.producers] });
  }

  onPublisherStop(): void {
    this.#release('the stream\'s publisher left');
  }

  onStreamEnd(): void {
    this.#release('the stream ended');
  }

  #release(reason: string): void {
    const id = this.#streamId;
    this.#streamId = undefined;
    if (id) this.#playback.removeSource(id, reason);
  }
}
