import { createSocket, type Socket } from 'node:dgram';
import type { types } from 'mediasoup';
import type { RtpMedia } from '../core/live-stream.js';
import type { Logger } from '../core/logger.js';
import { formatFmtp } from './sdp-parse.js';

/** Where and how a bridge sends RTP to ffmpeg. */
export interface RtpBridgeOptions {
  router: types.Router;
  /** The publisher's producers (at most one audio and one video are bridged). */
  producers: types.Producer[];
  logger: Logger;
  /** Address ffmpeg listens on; 127.0.0.1 by default (the transcoder runs on this host). */
  ip?: string;
  /** Range the ffmpeg ports are picked from (keep it outside mediasoup's rtcMinPort..rtcMaxPort); OS-chosen when absent. */
  portRange?: { min: number; max: number };
  /** Label in the SDP's s= line. */
  label?: string;
}

/** One bridged track: the consumer feeding ffmpeg and the ports ffmpeg reads it on. */
export interface BridgedTrack {
  kind: 'audio' | 'video';
  consumer: types.Consumer;
  transport: types.PlainTransport;
  rtpPort: number;
  rtcpPort: number;
}

/**
 * Forwards a WebRTC publisher's producers to local UDP ports as plain RTP (one PlainTransport per
 * track: comedia off, RTCP on its own port, because ffmpeg's RTP demuxer reads RTCP on port+1),
 * and writes the SDP ffmpeg needs to read them (`-protocol_whitelist file,udp,rtp -i stream.sdp`,
 * or the same text on stdin with `pipe`). Closing it closes the transports and their consumers.
 */
export class RtpBridge {
  readonly tracks: BridgedTrack[];
  readonly sdp: string;
  readonly #log: Logger;
  #closed = false;

  private constructor(tracks: BridgedTrack[], sdp: string, log: Logger) {
    this.tracks = tracks;
    this.sdp = sdp;
    this.#log = log;
  }

  /** Creates the transports and consumers; rejects (closing what it made) on failure. */
  static async create(o: RtpBridgeOptions): Promise<RtpBridge> {
    const ip = o.ip ?? '127.0.0.1';
    const tracks: BridgedTrack[] = [];
    const taken = new Set<number>();
    try {
      // Video first: ffmpeg numbers the streams in SDP order.
      const ordered = [...o.producers].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'video' ? -1 : 1));
      for (const kind of ['video', 'audio'] as const) {
        const producer = ordered.find((p) => p.kind === kind && !p.closed);
        if (!producer) continue;
        const transport = await o.router.createPlainTransport({ listenInfo: { protocol: 'udp', ip }, rtcpMux: false, comedia: false });
        // Track it at once so a later failure closes it too.
        const port = await freePortPair(ip, taken, o.portRange);
        const entry = { kind, transport, rtpPort: port, rtcpPort: port + 1 } as BridgedTrack;
        tracks.push(entry);
        await transport.connect({ ip, port, rtcpPort: port + 1 });
        // Only the media codec (no RTX/FEC: ffmpeg neither asks for nor repairs retransmissions).
        const caps: types.RtpCapabilities = {
          codecs: (o.router.rtpCapabilities.codecs ?? []).filter((c) => c.kind === kind && !/\/(rtx|red|ulpfec|flexfec)$/i.test(c.mimeType)),
          headerExtensions: [],
        };
        if (!o.router.canConsume({ producerId: producer.id, rtpCapabilities: caps })) throw new Error(`cannot consume the ${kind} producer with plain RTP`);
        entry.consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: caps, paused: false });
      }
    } catch (err) {
      for (const t of tracks) t.transport.close();
      throw err;
    }
    if (!tracks.some((t) => t.kind === 'video')) {
      for (const t of tracks) t.transport.close();
      throw new Error('the publisher has no video producer to bridge');
    }
    return new RtpBridge(tracks, ffmpegSdp(tracks, ip, o.label ?? 'showcase webrtc'), o.logger);
  }

  /** Whether an audio track is bridged. */
  get hasAudio(): boolean {
    return this.tracks.some((t) => t.kind === 'audio');
  }

  /** Asks the publisher for a keyframe (ffmpeg can only start decoding at one). */
  requestKeyFrame(): void {
    if (this.#closed) return;
    for (const t of this.tracks) {
      if (t.kind === 'video' && !t.consumer.closed) {
        t.consumer.requestKeyFrame().catch((err: unknown) => this.#log.debug({ err }, 'keyframe request failed'));
      }
    }
  }

  /** RTP bytes the bridge's transports have sent to ffmpeg so far (0 once closed). */
  async sentBytes(): Promise<number> {
    if (this.#closed) return 0;
    let n = 0;
    for (const t of this.tracks) {
      if (t.transport.closed) continue;
      for (const s of await t.transport.getStats()) n += s.bytesSent;
    }
    return n;
  }

  /** The RTP media a publisher declares to its LiveStream: the producers where they are, plus this plain copy for ffmpeg. */
  rtpMedia(source: { router: types.Router; producers: readonly types.Producer[]; height?: number }): RtpMedia {
    return {
      router: source.router,
      producers: source.producers,
      sdp: this.sdp,
      ...(source.height ? { height: source.height } : {}),
      requestKeyFrame: () => this.requestKeyFrame(),
      sentBytes: () => this.sentBytes(),
    };
  }

  /** Closes the transports (and so the consumers). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.tracks) t.transport.close();
  }
}

/**
 * The SDP ffmpeg reads the bridged RTP with: one m-line per track, RTCP on port+1. Written as lines
 * rather than with sdp-transform's write(), which would put a=rtcp after a=rtpmap/a=fmtp and needs a
 * full session object for five lines of text that nothing but ffmpeg reads.
 */
export function ffmpegSdp(tracks: Array<Pick<BridgedTrack, 'kind' | 'rtpPort' | 'rtcpPort'> & { consumer: Pick<types.Consumer, 'rtpParameters'> }>, ip: string, label: string): string {
  const ipv = ip.includes(':') ? 'IP6' : 'IP4';
  const out = ['v=0', `o=- 0 0 IN ${ipv} ${ip}`, `s=${label.replace(/[\r\n]/g, ' ')}`, `c=IN ${ipv} ${ip}`, 't=0 0'];
  for (const t of tracks) {
    const codec = t.consumer.rtpParameters.codecs[0]!;
    const [, name] = codec.mimeType.split('/');
    out.push(`m=${t.kind} ${t.rtpPort} RTP/AVP ${codec.payloadType}`, `a=rtcp:${t.rtcpPort}`,
      `a=rtpmap:${codec.payloadType} ${name}/${codec.clockRate}${codec.channels && codec.channels > 1 ? `/${codec.channels}` : ''}`);
    if (Object.keys(codec.parameters ?? {}).length) out.push(`a=fmtp:${codec.payloadType} ${formatFmtp(codec.parameters ?? {})}`);
    out.push('a=recvonly');
  }
  return `${out.join('\n')}\n`;
}

function bindUdp(ip: string, port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = createSocket(ip.includes(':') ? 'udp6' : 'udp4');
    s.once('error', () => { s.close(); resolve(undefined); });
    s.bind(port, ip, () => resolve(s));
  });
}

/**
 * An even port whose odd neighbour is also free, for ffmpeg to bind (RTP on it, RTCP on +1). Probed
 * by binding both and releasing them; `taken` avoids handing the same pair out twice in one bridge.
 */
export async function freePortPair(ip: string, taken: Set<number>, range?: { min: number; max: number }): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    let want = 0;
    if (range) {
      const pairs = Math.floor((range.max - range.min) / 2);
      want = range.min + (range.min % 2) + 2 * Math.floor(Math.random() * Math.max(pairs, 1));
    }
    const a = await bindUdp(ip, want);
    if (!a) continue;
    const port = a.address().port;
    if (port % 2 !== 0 || taken.has(port)) { a.close(); continue; }
    const b = await bindUdp(ip, port + 1);
    a.close();
    if (!b) continue;
    b.close();
    taken.add(port);
    return port;
  }
  throw new Error('no free UDP port pair for the RTP bridge');
}
