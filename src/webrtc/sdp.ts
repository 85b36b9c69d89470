import type { types } from 'mediasoup';
import { attr, attrs, badSdp, formatFmtp, parseFmtp, parseSdp, unacceptableSdp, type SdpDocument, type SdpMediaSection } from './sdp-lines.js';

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
const ACCEPTED_FEEDBACK = new Set(['nack', 'nack pli', 'ccm fir', 'goog-remb', 'transport-cc']);

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
export interface WhipTransportInfo {
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
}

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
  const first = doc.media[0];
  const ufrag = attr(first, doc, 'ice-ufrag');
  const pwd = attr(first, doc, 'ice-pwd');
  if (!ufrag || !pwd) throw badSdp('no a=ice-ufrag / a=ice-pwd');
  const fingerprints = fingerprintsOf(first, doc);
  if (fingerprints.length === 0) throw badSdp('no usable a=fingerprint (DTLS is required)');
  const setup = attr(first, doc, 'setup') ?? 'actpass';
  if (setup !== 'actpass' && setup !== 'active') throw unacceptableSdp(`a=setup:${setup}: the server answers as DTLS server (passive), so the offer must be actpass or active`);
  const bundle = doc.attributes.find((a) => a.name === 'group' && a.value.startsWith('BUNDLE '))?.value.split(' ').slice(1) ?? [];
  const sections: WhipSection[] = doc.media.map((m, i) => translateSection(m, i, doc, bundle, opts));
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
  return {
    // The answer says setup:passive, so the publisher is the DTLS client (mediasoup takes the remote role).
    dtlsParameters: { role: 'client', fingerprints },
    iceUsernameFragment: ufrag,
    sections,
    extmapAllowMixed: doc.attributes.some((a) => a.name === 'extmap-allow-mixed'),
  };
}

function fingerprintsOf(section: SdpMediaSection | undefined, doc: SdpDocument): types.DtlsFingerprint[] {
  const lines = [...attrs(section?.attributes ?? [], 'fingerprint'), ...attrs(doc.attributes, 'fingerprint')];
  const out: types.DtlsFingerprint[] = [];
  for (const l of lines) {
    const m = /^(sha-1|sha-224|sha-256|sha-384|sha-512) ([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+)$/.exec(l.trim());
    if (m && !out.some((f) => f.algorithm === m[1])) out.push({ algorithm: m[1] as types.FingerprintAlgorithm, value: m[2]!.toUpperCase() });
  }
  return out;
}

interface OfferedCodec {
  payloadType: number;
  name: string;
  clockRate: number;
  channels?: number;
  parameters: Record<string, string | number>;
  feedback: types.RtcpFeedback[];
}

function offeredCodecs(m: SdpMediaSection): OfferedCodec[] {
  const out: OfferedCodec[] = [];
  for (const f of m.formats) {
    const pt = Number(f);
    if (!Number.isInteger(pt) || pt < 0 || pt > 127) throw badSdp(`m=${m.kind}: payload type ${JSON.stringify(f)} is not 0-127`);
    const rtpmap = attrs(m.attributes, 'rtpmap').find((v) => v.startsWith(`${pt} `));
    if (!rtpmap) continue; // static payload types without rtpmap (PCMU...): never accepted anyway
    const rm = /^\d+ ([\w.-]+)\/(\d+)(?:\/(\d+))?$/.exec(rtpmap.trim());
    if (!rm) throw badSdp(`m=${m.kind}: malformed a=rtpmap:${rtpmap}`);
    const fmtp = attrs(m.attributes, 'fmtp').find((v) => v.startsWith(`${pt} `));
    const feedback = attrs(m.attributes, 'rtcp-fb')
      .filter((v) => v.startsWith(`${pt} `) || v.startsWith('* '))
      .map((v) => v.slice(v.indexOf(' ') + 1).trim())
      .filter((v) => ACCEPTED_FEEDBACK.has(v))
      .map((v) => { const [type, parameter] = v.split(' '); return parameter ? { type: type!, parameter } : { type: type! }; });
    out.push({ payloadType: pt, name: rm[1]!, clockRate: Number(rm[2]), channels: rm[3] ? Number(rm[3]) : undefined, parameters: fmtp ? parseFmtp(fmtp.slice(fmtp.indexOf(' ') + 1)) : {}, feedback });
  }
  return out;
}

/** H.264 profile family from profile-level-id (the constraint bits matter: 42e0 is constrained baseline). */
function h264Profile(plid: unknown): string {
  const s = typeof plid === 'string' && /^[0-9a-fA-F]{6}$/.test(plid) ? plid.toLowerCase() : '42001f';
  const idc = parseInt(s.slice(0, 2), 16);
  const iop = parseInt(s.slice(2, 4), 16);
  if (idc === 0x42) return iop & 0x40 ? 'cb' : 'b';
  if (idc === 0x4d) return iop & 0x80 ? 'cb' : 'main';
  if (idc === 0x64) return (iop & 0x0c) === 0x0c ? 'ch' : 'high';
  return `idc${idc}`;
}

function matches(c: OfferedCodec, kind: string, cap: types.RtpCodecCapability | types.RouterRtpCodecCapability): boolean {
  if (cap.mimeType.toLowerCase() !== `${kind}/${c.name}`.toLowerCase() || cap.clockRate !== c.clockRate) return false;
  if (kind === 'audio' && (c.channels ?? 1) !== (cap.channels ?? 1)) return false;
  if (c.name.toLowerCase() === 'h264') {
    const p = cap.parameters ?? {};
    if (Number(c.parameters['packetization-mode'] ?? 0) !== Number(p['packetization-mode'] ?? 0)) return false;
    if (h264Profile(c.parameters['profile-level-id']) !== h264Profile(p['profile-level-id'])) return false;
  }
  return true;
}

function translateSection(m: SdpMediaSection, index: number, doc: SdpDocument, bundle: string[], opts: TranslateOptions): WhipSection {
  const mid = attrs(m.attributes, 'mid')[0] ?? String(index);
  const section: WhipSection = { mid, kind: m.kind, protocol: m.protocol, rids: [], rtcpRsize: m.attributes.some((a) => a.name === 'rtcp-rsize'), firstFormat: m.formats[0] ?? '0' };
  const reject = (why: string): WhipSection => ({ ...section, rejected: why });
  if (m.kind !== 'audio' && m.kind !== 'video') return reject(`${m.kind} sections are not supported`);
  if (m.port === 0) return reject('the offer disabled it (port 0)');
  if (!/^(UDP\/TLS\/RTP\/SAVPF|UDP\/TLS\/RTP\/SAVP|TCP\/TLS\/RTP\/SAVPF)$/.test(m.protocol)) return reject(`protocol ${m.protocol} is not DTLS-SRTP`);
  const direction = ['sendonly', 'sendrecv', 'recvonly', 'inactive'].find((d) => m.attributes.some((a) => a.name === d)) ?? 'sendrecv';
  if (direction === 'recvonly' || direction === 'inactive') return reject(`a=${direction}: WHIP sections must send`);
  if (!bundle.includes(mid)) throw unacceptableSdp(`m=${m.kind} (mid ${mid}) is not in a=group:BUNDLE: one transport carries everything`);
  if (!m.attributes.some((a) => a.name === 'rtcp-mux')) throw unacceptableSdp(`m=${m.kind} (mid ${mid}) lacks a=rtcp-mux`);

  const kind = m.kind;
  const offered = offeredCodecs(m);
  const caps = (opts.routerCodecs ?? WHIP_MEDIA_CODECS).filter((c) => c.kind === kind && !/\/(rtx|red|ulpfec|flexfec)$/i.test(c.mimeType));
  let chosen: OfferedCodec | undefined;
  if (kind === 'video') {
    for (const name of opts.videoPreference ?? ['H264', 'VP8']) {
      chosen = offered.find((c) => c.name.toLowerCase() === name.toLowerCase() && caps.some((cap) => matches(c, kind, cap)));
      if (chosen) break;
    }
  } else {
    chosen = offered.find((c) => caps.some((cap) => matches(c, kind, cap)));
  }
  if (!chosen) return reject(`no supported ${kind} codec offered (offered: ${[...new Set(offered.map((c) => c.name))].join(', ') || 'none'}; supported: ${[...new Set(caps.map((c) => c.mimeType.split('/')[1]))].join(', ')})`);

  const codecs: types.RtpCodecParameters[] = [{ mimeType: `${kind}/${chosen.name}`, payloadType: chosen.payloadType, clockRate: chosen.clockRate, ...(chosen.channels ? { channels: chosen.channels } : {}), parameters: chosen.parameters, rtcpFeedback: chosen.feedback }];
  const rtx = offered.find((c) => c.name.toLowerCase() === 'rtx' && Number(c.parameters.apt) === chosen.payloadType);
  if (kind === 'video' && rtx) codecs.push({ mimeType: 'video/rtx', payloadType: rtx.payloadType, clockRate: rtx.clockRate, parameters: { apt: chosen.payloadType }, rtcpFeedback: [] });

  const headerExtensions: types.RtpHeaderExtensionParameters[] = [];
  for (const v of attrs(m.attributes, 'extmap')) {
    const em = /^(\d+)(?:\/\w+)? (\S+)/.exec(v);
    if (!em) throw badSdp(`malformed a=extmap:${v}`);
    const id = Number(em[1]);
    if (id < 1 || id > 255) throw badSdp(`a=extmap id ${id} is out of range`);
    if (ACCEPTED_EXTENSIONS[kind].includes(em[2]!)) headerExtensions.push({ uri: em[2] as types.RtpHeaderExtensionUri, id });
  }

  const encodings = encodingsOf(m, kind);
  if (encodings.length === 0) throw unacceptableSdp(`m=${kind} (mid ${mid}) has neither a=ssrc nor a=rid: the server cannot tell its RTP streams apart`);
  const rids = encodings.flatMap((e) => (e.rid ? [e.rid] : []));
  if (rids.length && !headerExtensions.some((h) => h.uri === 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id')) {
    throw unacceptableSdp(`m=${kind} (mid ${mid}) uses a=rid without the rtp-stream-id header extension`);
  }
  const cname = attrs(m.attributes, 'ssrc').map((v) => /^\d+ cname:(\S+)/.exec(v)?.[1]).find(Boolean);
  return { ...section, rids, rtpParameters: { mid, codecs, headerExtensions, encodings, rtcp: { cname, reducedSize: section.rtcpRsize } } };
}

function encodingsOf(m: SdpMediaSection, kind: string): types.RtpEncodingParameters[] {
  const simulcast = attrs(m.attributes, 'simulcast')[0];
  const sendRids = attrs(m.attributes, 'rid').map((v) => v.split(' ')).filter((p) => p[1] === 'send').map((p) => p[0]!);
  if (simulcast || sendRids.length) {
    // "send h;l" (alternatives after a comma and paused ~rids are not taken).
    const fromSim = /send (\S+)/.exec(simulcast ?? '')?.[1]?.split(';').map((r) => r.split(',')[0]!).filter((r) => !r.startsWith('~')) ?? [];
    const rids = fromSim.length ? fromSim : sendRids;
    return rids.map((rid) => ({ rid }));
  }
  const ssrcs = [...new Set(attrs(m.attributes, 'ssrc').map((v) => Number(v.split(' ')[0])).filter((n) => Number.isInteger(n) && n > 0 && n <= 0xffffffff))];
  if (ssrcs.length === 0) return [];
  const fid = attrs(m.attributes, 'ssrc-group').map((v) => v.split(' ')).find((p) => p[0] === 'FID')?.slice(1).map(Number);
  if (fid && fid.length === 2 && kind === 'video') return [{ ssrc: fid[0]!, rtx: { ssrc: fid[1]! } }];
  return [{ ssrc: ssrcs[0]! }];
}

/**
 * The SDP answer for a translated offer: ICE-lite, DTLS passive, the server's candidates, and
 * for each accepted section only the codec chosen (and its RTX); rejected sections get port 0.
 */
export function buildWhipAnswer(offer: WhipOffer, transport: WhipTransportInfo, sessionVersion = Date.now()): string {
  const accepted = offer.sections.filter((s) => s.rtpParameters);
  const cand = transport.iceCandidates[0];
  const addr = cand?.address ?? cand?.ip ?? '0.0.0.0';
  const ipv = addr.includes(':') ? 'IP6' : 'IP4';
  const fingerprint = transport.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ?? transport.dtlsParameters.fingerprints[0];
  if (!fingerprint) throw new Error('the transport has no DTLS fingerprint');
  const out = [
    'v=0',
    `o=showcase ${sessionVersion} 1 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=ice-lite',
    `a=group:BUNDLE ${accepted.map((s) => s.mid).join(' ')}`,
    ...(offer.extmapAllowMixed ? ['a=extmap-allow-mixed'] : []),
    'a=msid-semantic: WMS *',
  ];
  for (const s of offer.sections) {
    const p = s.rtpParameters;
    if (!p) {
      out.push(`m=${s.kind} 0 ${s.protocol} ${s.firstFormat}`, `c=IN ${ipv} ${addr}`, `a=mid:${s.mid}`, 'a=inactive');
      continue;
    }
    out.push(
      `m=${s.kind} ${cand?.port ?? 9} ${s.protocol} ${p.codecs.map((c) => c.payloadType).join(' ')}`,
      `c=IN ${ipv} ${addr}`,
      `a=mid:${s.mid}`,
      'a=recvonly',
      `a=ice-ufrag:${transport.iceParameters.usernameFragment}`,
      `a=ice-pwd:${transport.iceParameters.password}`,
      `a=fingerprint:${fingerprint.algorithm} ${fingerprint.value}`,
      'a=setup:passive',
      'a=rtcp-mux',
      ...(s.rtcpRsize ? ['a=rtcp-rsize'] : []),
      ...(p.headerExtensions ?? []).map((h) => `a=extmap:${h.id} ${h.uri}`),
    );
    for (const c of p.codecs) {
      const [, name] = c.mimeType.split('/');
      out.push(`a=rtpmap:${c.payloadType} ${name}/${c.clockRate}${c.channels && c.channels > 1 ? `/${c.channels}` : ''}`);
      for (const fb of c.rtcpFeedback ?? []) out.push(`a=rtcp-fb:${c.payloadType} ${fb.type}${fb.parameter ? ` ${fb.parameter}` : ''}`);
      if (c.parameters && Object.keys(c.parameters).length) out.push(`a=fmtp:${c.payloadType} ${formatFmtp(c.parameters)}`);
    }
    if (s.rids.length) {
      for (const rid of s.rids) out.push(`a=rid:${rid} recv`);
      out.push(`a=simulcast:recv ${s.rids.join(';')}`);
    }
    for (const c of transport.iceCandidates) {
      const a = c.address ?? c.ip;
      out.push(`a=candidate:${c.foundation} 1 ${c.protocol} ${c.priority} ${a} ${c.port} typ host${c.protocol === 'tcp' ? ' tcptype passive' : ''}`);
    }
    out.push('a=end-of-candidates');
  }
  return `${out.join('\r\n')}\r\n`;
}
