import type { types } from 'mediasoup';
import { parseSimulcastStreamList } from 'sdp-transform';
import { badSdp, parseSdp, unacceptableSdp, type SdpMedia } from './sdp-parse.js';
import { acceptedSectionHead, answerSessionLines, candidateLines, codecMatches, directionOf, formatsOf, mediaLines, midOf, offeredCodecs, offeredExtensions, parseOfferTransport, rejectedSectionLines, requireBundledMux, unusableSection, type AnswerTransportInfo, type OfferedCodec } from './sdp-offer.js';

/**
 * What a WHIP router offers publishers: Opus, H.264 (constrained baseline, baseline, main, high,
 * packetization-mode 1: what phones, browsers and OBS send) and VP8. ffmpeg decodes all of them.
 */
export const WHIP_MEDIA_CODECS: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  ...['42e01f', '42001f', '4d001f', '640c1f', '64001f'].map((profile): types.RouterRtpCodecCapability => ({
    kind: 'video', mimeType: 'video/H264', clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': profile, 'level-asymmetry-allowed': 1 },
  })),
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

const EXT_MID = 'urn:ietf:params:rtp-hdrext:sdes:mid';
/** Header extensions taken from an offer, per kind (those mediasoup reads on a producer). */
const ACCEPTED_EXTENSIONS: Record<'audio' | 'video', string[]> = {
  audio: [EXT_MID, 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01', 'urn:ietf:params:rtp-hdrext:ssrc-audio-level'],
  video: [EXT_MID, 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id', 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
    'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01', 'urn:3gpp:video-orientation', 'urn:ietf:params:rtp-hdrext:toffset'],
};

/** One m-section of the offer and what the server does with it. */
export interface WhipSection {
  mid: string;
  kind: string;
  /** The offer's m-line protocol, echoed in the answer. */
  protocol: string;
  /** Present when the section is accepted: the producer's RTP parameters. */
  rtpParameters?: types.RtpParameters;
  /** Why a section is rejected (port 0 in the answer). */
  rejected?: string;
  rids: string[];
  rtcpRsize: boolean;
  /** The offer's first format, for the rejected m-line. */
  firstFormat: string;
}

/** An offer translated for mediasoup: the remote DTLS parameters and one entry per m-section. */
export interface WhipOffer {
  dtlsParameters: types.DtlsParameters;
  iceUsernameFragment: string;
  sections: WhipSection[];
  extmapAllowMixed: boolean;
}

/** What the answer needs from the server's WebRtcTransport. */
export type WhipTransportInfo = AnswerTransportInfo;

/** Preferences for translating an offer. */
export interface TranslateOptions {
  /** Router codecs offers are matched against (router.rtpCapabilities.codecs); WHIP_MEDIA_CODECS by default. */
  routerCodecs?: types.RtpCodecCapability[] | types.RouterRtpCodecCapability[];
  /** Video codecs in order of preference (mime subtypes); H264 first by default. */
  videoPreference?: string[];
  /** Refuse offers without video (the ladder needs a picture); true by default. */
  requireVideo?: boolean;
}

/**
 * Translates a WHIP (browser, phone or OBS) offer into mediasoup producer parameters. Throws
 * SHOWCASE_ERR_BAD_REQUEST for text that is not a WebRTC offer and SHOWCASE_ERR_VALIDATION for an
 * offer the server cannot take (no BUNDLE or rtcp-mux, no supported codec, passive DTLS, ...).
 */
export function translateWhipOffer(sdp: string, opts: TranslateOptions = {}): WhipOffer {
  const doc = parseSdp(sdp);
  const transport = parseOfferTransport(doc);
  const bundle = transport.bundle;
  const sections: WhipSection[] = doc.media.map((m, i) => translateSection(m, i, bundle, opts));
  const accepted = sections.filter((s) => s.rtpParameters);
  if (accepted.length === 0) throw unacceptableSdp(`no m-section could be accepted (${sections.map((s) => `${s.kind} ${s.mid}: ${s.rejected}`).join('; ')})`);
  if ((opts.requireVideo ?? true) && !accepted.some((s) => s.kind === 'video')) {
    const v = sections.find((s) => s.kind === 'video');
    throw unacceptableSdp(v ? `the video section was not accepted: ${v.rejected}` : 'the offer has no video');
  }
  const mids = new Set<string>();
  for (const s of sections) {
    if (mids.has(s.mid)) throw badSdp(`duplicate a=mid:${s.mid}`);
    mids.add(s.mid);
  }
  return { dtlsParameters: transport.dtlsParameters, iceUsernameFragment: transport.iceUsernameFragment, sections, extmapAllowMixed: transport.extmapAllowMixed };
}

function translateSection(m: SdpMedia, index: number, bundle: string[], opts: TranslateOptions): WhipSection {
  const mid = midOf(m, index);
  const section: WhipSection = { mid, kind: m.type, protocol: m.protocol, rids: [], rtcpRsize: m.rtcpRsize !== undefined, firstFormat: formatsOf(m)[0] ?? '0' };
  const reject = (why: string): WhipSection => ({ ...section, rejected: why });
  const unusable = unusableSection(m);
  if (unusable) return reject(unusable);
  const direction = directionOf(m);
  if (direction === 'recvonly' || direction === 'inactive') return reject(`a=${direction}: WHIP sections must send`);
  requireBundledMux(m, mid, bundle);

  const kind = m.type as 'audio' | 'video'; // unusableSection refused every other kind
  const offered = offeredCodecs(m);
  const caps = (opts.routerCodecs ?? WHIP_MEDIA_CODECS).filter((c) => c.kind === kind && !/\/(rtx|red|ulpfec|flexfec)$/i.test(c.mimeType));
  let chosen: OfferedCodec | undefined;
  if (kind === 'video') {
    for (const name of opts.videoPreference ?? ['H264', 'VP8']) {
      chosen = offered.find((c) => c.name.toLowerCase() === name.toLowerCase() && caps.some((cap) => codecMatches(c, kind, cap)));
      if (chosen) break;
    }
  } else {
    chosen = offered.find((c) => caps.some((cap) => codecMatches(c, kind, cap)));
  }
  if (!chosen) return reject(`no supported ${kind} codec offered (offered: ${[...new Set(offered.map((c) => c.name))].join(', ') || 'none'}; supported: ${[...new Set(caps.map((c) => c.mimeType.split('/')[1]))].join(', ')})`);

  const codecs: types.RtpCodecParameters[] = [{ mimeType: `${kind}/${chosen.name}`, payloadType: chosen.payloadType, clockRate: chosen.clockRate, ...(chosen.channels ? { channels: chosen.channels } : {}), parameters: chosen.parameters, rtcpFeedback: chosen.feedback }];
  const rtx = offered.find((c) => c.name.toLowerCase() === 'rtx' && Number(c.parameters.apt) === chosen.payloadType);
  if (kind === 'video' && rtx) codecs.push({ mimeType: 'video/rtx', payloadType: rtx.payloadType, clockRate: rtx.clockRate, parameters: { apt: chosen.payloadType }, rtcpFeedback: [] });

  const headerExtensions: types.RtpHeaderExtensionParameters[] = [];
  for (const e of offeredExtensions(m)) {
    if (ACCEPTED_EXTENSIONS[kind].includes(e.uri)) headerExtensions.push({ uri: e.uri as types.RtpHeaderExtensionUri, id: e.id });
  }

  const encodings = encodingsOf(m, kind);
  if (encodings.length === 0) throw unacceptableSdp(`m=${kind} (mid ${mid}) has neither a=ssrc nor a=rid: the server cannot tell its RTP streams apart`);
  const rids = encodings.flatMap((e) => (e.rid ? [e.rid] : []));
  if (rids.length && !headerExtensions.some((h) => h.uri === 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id')) {
    throw unacceptableSdp(`m=${kind} (mid ${mid}) uses a=rid without the rtp-stream-id header extension`);
  }
  const cname = m.ssrcs?.find((s) => s.attribute === 'cname' && s.value)?.value?.split(' ')[0];
  return { ...section, rids, rtpParameters: { mid, codecs, headerExtensions, encodings, rtcp: { cname, reducedSize: section.rtcpRsize } } };
}

function encodingsOf(m: SdpMedia, kind: string): types.RtpEncodingParameters[] {
  const sendRids = (m.rids ?? []).filter((r) => r.direction === 'send').map((r) => String(r.id));
  const simulcastSend = m.simulcast?.dir1 === 'send' ? m.simulcast.list1 : m.simulcast?.dir2 === 'send' ? m.simulcast.list2 : undefined;
  if (m.simulcast || sendRids.length) {
    // "send h;l": the first alternative of each stream (after a comma), and not when it is paused (~rid).
    const fromSim = simulcastSend ? parseSimulcastStreamList(simulcastSend).flatMap((alts) => (alts[0] && !alts[0].paused ? [String(alts[0].scid)] : [])) : [];
    const rids = fromSim.length ? fromSim : sendRids;
    return rids.map((rid) => ({ rid }));
  }
  const isSsrc = (n: number): boolean => Number.isInteger(n) && n > 0 && n <= 0xffffffff;
  const ssrcs = [...new Set((m.ssrcs ?? []).map((s) => Number(s.id)).filter(isSsrc))];
  if (ssrcs.length === 0) return [];
  const fid = m.ssrcGroups?.find((g) => g.semantics === 'FID')?.ssrcs.split(' ').map(Number);
  if (fid && fid.length === 2 && fid.every(isSsrc) && kind === 'video') return [{ ssrc: fid[0]!, rtx: { ssrc: fid[1]! } }];
  return [{ ssrc: ssrcs[0]! }];
}

/**
 * The SDP answer for a translated offer: ICE-lite, DTLS passive, the server's candidates, and
 * for each accepted section only the codec chosen (and its RTX); rejected sections get port 0.
 */
export function buildWhipAnswer(offer: WhipOffer, transport: WhipTransportInfo, sessionVersion = Date.now()): string {
  const accepted = offer.sections.filter((s) => s.rtpParameters);
  const out = answerSessionLines(accepted.map((s) => s.mid), offer.extmapAllowMixed, sessionVersion);
  for (const s of offer.sections) {
    const p = s.rtpParameters;
    if (!p) {
      out.push(...rejectedSectionLines(s, transport));
      continue;
    }
    out.push(...acceptedSectionHead(s, p.codecs.map((c) => c.payloadType), 'recvonly', transport), ...mediaLines(p.headerExtensions ?? [], p.codecs));
    if (s.rids.length) {
      for (const rid of s.rids) out.push(`a=rid:${rid} recv`);
      out.push(`a=simulcast:recv ${s.rids.join(';')}`);
    }
    out.push(...candidateLines(transport));
  }
  return `${out.join('\r\n')}\r\n`;
}
