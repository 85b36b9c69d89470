import type { types } from 'mediasoup';
import { badSdp, parseSdp, unacceptableSdp } from '../../webrtc/sdp-parse.js';
import {
  acceptedSectionHead, answerSessionLines, candidateLines, codecMatches, directionOf, formatsOf, mediaLines, midOf, offeredCodecs, offeredExtensions,
  parseOfferTransport, rejectedSectionLines, requireBundledMux, unusableSection, type AnswerTransportInfo, type OfferTransport, type OfferedCodec,
} from '../../webrtc/sdp-offer.js';

// A WHEP viewer is the offerer, and the payload types and header extension ids in its offer are what
// it will demultiplex on. mediasoup sends with its router's payload types and with fixed extension
// ids, so: (1) viewers are served from an edge router built with the viewer's payload types (see
// stream-fanout.ts), and (2) the answer only negotiates extensions whose offered id is the one
// mediasoup writes (others are left out; the browser then ignores them on the wire).

/** One m-section of a WHEP offer. */
export interface WhepSection {
  mid: string;
  kind: string;
  protocol: string;
  rtcpRsize: boolean;
  firstFormat: string;
  /** The offered codecs in the offer's order (the viewer's preference). */
  codecs: OfferedCodec[];
  extensions: Array<{ id: number; uri: string }>;
  /** Why the section cannot receive anything (port 0 in the answer). */
  rejected?: string;
}

/** A viewer's offer: the remote transport and its receiving sections. */
export interface WhepOffer {
  transport: OfferTransport;
  sections: WhepSection[];
}

/** One answered section: the consumer feeding it. */
export interface WhepTrack {
  rtpParameters: types.RtpParameters;
  /** msid track id (the consumer id). */
  trackId: string;
}

/**
 * Translates a WHEP viewer's offer (recvonly or sendrecv audio/video). Throws SHOWCASE_ERR_BAD_REQUEST
 * for text that is not a WebRTC offer and SHOWCASE_ERR_VALIDATION for one that cannot receive anything.
 */
export function translateWhepOffer(sdp: string): WhepOffer {
  const doc = parseSdp(sdp);
  const transport = parseOfferTransport(doc);
  const mids = new Set<string>();
  const sections = doc.media.map((m, i): WhepSection => {
    const mid = midOf(m, i);
    if (mids.has(mid)) throw badSdp(`duplicate a=mid:${mid}`);
    mids.add(mid);
    const section: WhepSection = { mid, kind: m.type, protocol: m.protocol, rtcpRsize: m.rtcpRsize !== undefined, firstFormat: formatsOf(m)[0] ?? '0', codecs: [], extensions: [] };
    const unusable = unusableSection(m);
    if (unusable) return { ...section, rejected: unusable };
    const direction = directionOf(m);
    if (direction === 'sendonly' || direction === 'inactive') return { ...section, rejected: `a=${direction}: WHEP sections must receive` };
    requireBundledMux(m, mid, transport.bundle);
    return { ...section, codecs: offeredCodecs(m), extensions: offeredExtensions(m) };
  });
  if (!sections.some((s) => !s.rejected)) throw unacceptableSdp(`no m-section can receive (${sections.map((s) => `${s.kind} ${s.mid}: ${s.rejected}`).join('; ')})`);
  return { transport, sections };
}

/** The first codec the viewer offers that is the producer's codec (undefined: it cannot decode it). */
export function offeredCodecFor(section: WhepSection, producerCodec: types.RtpCodecParameters): OfferedCodec | undefined {
  return section.codecs.find((c) => codecMatches(c, section.kind, producerCodec));
}

/**
 * The RTP capabilities a viewer's section gives mediasoup's consume(): the chosen codec at the
 * payload type the viewer offered (the edge router uses the same number) and the offered extensions.
 */
export function viewerCapabilities(section: WhepSection, chosen: OfferedCodec, producerCodec: types.RtpCodecParameters): types.RtpCapabilities {
  const kind = section.kind as types.MediaKind;
  return {
    codecs: [{
      kind,
      mimeType: producerCodec.mimeType,
      preferredPayloadType: chosen.payloadType,
      clockRate: producerCodec.clockRate,
      ...(producerCodec.channels ? { channels: producerCodec.channels } : {}),
      parameters: producerCodec.parameters ?? {},
      rtcpFeedback: chosen.feedback,
    }],
    headerExtensions: section.extensions.map((e) => ({ kind, uri: e.uri as types.RtpHeaderExtensionUri, preferredId: e.id, direction: 'sendrecv' as const })),
  };
}

/**
 * The SDP answer for a viewer: ICE-lite, DTLS passive, sendonly sections carrying each consumer's
 * codec, SSRC and cname (the browser demultiplexes on them when no MID extension is negotiated);
 * sections without a track get port 0.
 */
export function buildWhepAnswer(offer: WhepOffer, transport: AnswerTransportInfo, tracks: Map<string, WhepTrack>, streamLabel: string, sessionVersion = Date.now()): string {
  const out = answerSessionLines(offer.sections.filter((s) => tracks.has(s.mid)).map((s) => s.mid), offer.transport.extmapAllowMixed, sessionVersion);
  const label = streamLabel.replace(/[^A-Za-z0-9_-]/g, '') || 'showcase';
  for (const s of offer.sections) {
    const track = tracks.get(s.mid);
    if (!track) {
      out.push(...rejectedSectionLines(s, transport));
      continue;
    }
    const p = track.rtpParameters;
    out.push(...acceptedSectionHead(s, p.codecs.map((c) => c.payloadType), 'sendonly', transport), ...mediaLines(p.headerExtensions ?? [], p.codecs));
    out.push(`a=msid:${label} ${track.trackId}`);
    const cname = p.rtcp?.cname ?? label;
    for (const e of p.encodings ?? []) {
      if (e.ssrc === undefined) continue;
      out.push(`a=ssrc:${e.ssrc} cname:${cname}`, `a=ssrc:${e.ssrc} msid:${label} ${track.trackId}`);
      if (e.rtx?.ssrc) out.push(`a=ssrc:${e.rtx.ssrc} cname:${cname}`, `a=ssrc:${e.rtx.ssrc} msid:${label} ${track.trackId}`, `a=ssrc-group:FID ${e.ssrc} ${e.rtx.ssrc}`);
    }
    out.push(...candidateLines(transport));
  }
  return `${out.join('\r\n')}\r\n`;
}
