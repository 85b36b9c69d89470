import { isIP } from 'node:net';
import type { types } from 'mediasoup';
import { parsePayloads } from 'sdp-transform';
import { badSdp, formatFmtp, parseFmtp, unacceptableSdp, type SdpMedia, type SdpSession } from './sdp-parse.js';

// What WHIP (publish) and WHEP (play) offers have in common: the browser is the offerer, the
// server answers ICE-lite and DTLS passive over one BUNDLEd, rtcp-muxed transport. Direction-specific
// translation lives in sdp.ts (WHIP) and sdp-whep.ts (WHEP).
//
// Offers are read with sdp-transform (sdp-parse.ts). Answers are written here as lines, not with
// sdp-transform's write(): it emits attributes in its grammar's order, so every a=rtpmap, then every
// a=fmtp, then every a=rtcp-fb, and a=end-of-candidates before the a=ssrc lines; an answer laid out
// per codec, as browsers write SDP, is easier to read in logs and is what the tests pin. The answers
// are checked to read back through sdp-transform (test/unit/webrtc-sdp.test.ts).

/** The offer's transport: who the remote DTLS peer is, its ICE credentials and what is bundled. */
export interface OfferTransport {
  dtlsParameters: types.DtlsParameters;
  iceUsernameFragment: string;
  bundle: string[];
  extmapAllowMixed: boolean;
}

/** What an answer needs from the server's WebRtcTransport. */
export interface AnswerTransportInfo {
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
}

/** A codec as offered in one m-section. */
export interface OfferedCodec {
  payloadType: number;
  name: string;
  clockRate: number;
  channels?: number;
  parameters: Record<string, string | number>;
  feedback: types.RtcpFeedback[];
}

const ACCEPTED_FEEDBACK = new Set(['nack', 'nack pli', 'ccm fir', 'goog-remb', 'transport-cc']);

/** Reads the offer's ICE credentials, DTLS fingerprints and role, and its BUNDLE group. */
export function parseOfferTransport(doc: SdpSession): OfferTransport {
  // Media level first, then session level (OBS's libdatachannel writes them once, at the top).
  const first = doc.media[0];
  const ufrag = first?.iceUfrag ?? doc.iceUfrag;
  const pwd = first?.icePwd ?? doc.icePwd;
  if (!ufrag || !pwd) throw badSdp('no a=ice-ufrag / a=ice-pwd');
  const fingerprints = fingerprintsOf(first, doc);
  if (fingerprints.length === 0) throw badSdp('no usable a=fingerprint (DTLS is required)');
  const setup = first?.setup ?? doc.setup ?? 'actpass';
  if (setup !== 'actpass' && setup !== 'active') throw unacceptableSdp(`a=setup:${setup}: the server answers as DTLS server (passive), so the offer must be actpass or active`);
  const bundle = doc.groups?.find((g) => g.type === 'BUNDLE')?.mids.split(' ').filter(Boolean) ?? [];
  return {
    // The answer says setup:passive, so the browser is the DTLS client (mediasoup takes the remote role).
    dtlsParameters: { role: 'client', fingerprints },
    iceUsernameFragment: ufrag,
    bundle,
    extmapAllowMixed: doc.extmapAllowMixed !== undefined,
  };
}

/**
 * The section's and the session's fingerprint, one per algorithm, with a well-formed hash.
 * sdp-transform keeps one a=fingerprint per level (the last written); browsers write one.
 */
function fingerprintsOf(section: SdpMedia | undefined, doc: SdpSession): types.DtlsFingerprint[] {
  const out: types.DtlsFingerprint[] = [];
  for (const f of [section?.fingerprint, doc.fingerprint]) {
    if (!f) continue;
    const algorithm = f.type.toLowerCase();
    if (!/^sha-(1|224|256|384|512)$/.test(algorithm) || !/^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+$/.test(f.hash)) continue;
    if (!out.some((x) => x.algorithm === algorithm)) out.push({ algorithm: algorithm as types.FingerprintAlgorithm, value: f.hash.toUpperCase() });
  }
  return out;
}

/** The m-section's a=mid, or its index when it has none. */
export function midOf(m: SdpMedia, index: number): string {
  return m.mid ?? String(index);
}

/** The m-section's direction attribute (sendrecv when absent, as RFC 3264 says). */
export function directionOf(m: SdpMedia): 'sendonly' | 'sendrecv' | 'recvonly' | 'inactive' {
  return m.direction ?? 'sendrecv';
}

/** Why an audio/video section cannot be carried at all (undefined when it can). */
export function unusableSection(m: SdpMedia): string | undefined {
  if (m.type !== 'audio' && m.type !== 'video') return `${m.type} sections are not supported`;
  if (m.port === 0) return 'the offer disabled it (port 0)';
  if (!/^(UDP\/TLS\/RTP\/SAVPF|UDP\/TLS\/RTP\/SAVP|TCP\/TLS\/RTP\/SAVPF)$/.test(m.protocol)) return `protocol ${m.protocol} is not DTLS-SRTP`;
  return undefined;
}

/** Throws unless the section is in the BUNDLE group and multiplexes RTCP (one transport for all). */
export function requireBundledMux(m: SdpMedia, mid: string, bundle: string[]): void {
  if (!bundle.includes(mid)) throw unacceptableSdp(`m=${m.type} (mid ${mid}) is not in a=group:BUNDLE: one transport carries everything`);
  if (!m.rtcpMux) throw unacceptableSdp(`m=${m.type} (mid ${mid}) lacks a=rtcp-mux`);
}

/** The m-line's formats as written (the first one is echoed in a rejected section). */
export function formatsOf(m: SdpMedia): string[] {
  return (m.payloads ?? '').split(' ').filter(Boolean);
}

/** Every codec an m-section offers, with its fmtp parameters and the RTCP feedback we understand. */
export function offeredCodecs(m: SdpMedia): OfferedCodec[] {
  const out: OfferedCodec[] = [];
  const formats = formatsOf(m);
  // Checked as text first: parsePayloads maps anything that is not a number to NaN.
  for (const f of formats) if (!/^\d{1,3}$/.test(f) || Number(f) > 127) throw badSdp(`m=${m.type}: payload type ${JSON.stringify(f)} is not 0-127`);
  // Payload types are matched as text: sdp-transform reads "a=rtpmap: opus/48000" with payload '', which Number() would make 0.
  const samePt = (payload: unknown, pt: number): boolean => String(payload) === String(pt);
  for (const pt of parsePayloads(formats.join(' '))) {
    const rtpmap = m.rtp.find((r) => samePt(r.payload, pt));
    if (!rtpmap) continue; // static payload types without rtpmap (PCMU...): never accepted anyway
    // sdp-transform reads "H264" without a clock rate (and "opus/48000/x") without complaint; mediasoup needs both numbers.
    if (!rtpmap.codec || typeof rtpmap.rate !== 'number' || (rtpmap.encoding !== undefined && typeof rtpmap.encoding !== 'number')) {
      throw badSdp(`m=${m.type}: malformed a=rtpmap:${pt} ${[rtpmap.codec, rtpmap.rate, rtpmap.encoding].filter((x) => x !== undefined).map(String).join('/')}`);
    }
    const fmtp = m.fmtp.find((x) => samePt(x.payload, pt));
    const feedback = (m.rtcpFb ?? [])
      .filter((fb) => String(fb.payload) === '*' || samePt(fb.payload, pt))
      .map((fb) => ({ type: String(fb.type), ...(fb.subtype ? { parameter: String(fb.subtype) } : {}) }))
      .filter((fb) => ACCEPTED_FEEDBACK.has(fb.parameter ? `${fb.type} ${fb.parameter}` : fb.type));
    out.push({ payloadType: pt, name: String(rtpmap.codec), clockRate: rtpmap.rate, channels: rtpmap.encoding, parameters: fmtp ? parseFmtp(String(fmtp.config)) : {}, feedback });
  }
  return out;
}

/** Every a=extmap of a section as (id, uri); throws on ids out of range (parseSdp refused malformed lines). */
export function offeredExtensions(m: SdpMedia): Array<{ id: number; uri: string }> {
  const out: Array<{ id: number; uri: string }> = [];
  for (const e of m.ext ?? []) {
    const id = Number(e.value);
    if (!Number.isInteger(id) || id < 1 || id > 255) throw badSdp(`a=extmap id ${String(e.value)} is out of range`);
    if (!e.uri) throw badSdp(`malformed a=extmap:${id}`);
    out.push({ id, uri: String(e.uri) });
  }
  return out;
}

/** H.264 profile family from profile-level-id (the constraint bits matter: 42e0 is constrained baseline). */
export function h264Profile(plid: unknown): string {
  const s = typeof plid === 'string' && /^[0-9a-fA-F]{6}$/.test(plid) ? plid.toLowerCase() : '42001f';
  const idc = parseInt(s.slice(0, 2), 16);
  const iop = parseInt(s.slice(2, 4), 16);
  if (idc === 0x42) return iop & 0x40 ? 'cb' : 'b';
  if (idc === 0x4d) return iop & 0x80 ? 'cb' : 'main';
  if (idc === 0x64) return (iop & 0x0c) === 0x0c ? 'ch' : 'high';
  return `idc${idc}`;
}

/** Whether an offered codec is the same codec as a mediasoup one (H.264: same profile and packetization mode). */
export function codecMatches(c: OfferedCodec, kind: string, cap: { mimeType: string; clockRate: number; channels?: number; parameters?: Record<string, unknown> }): boolean {
  if (cap.mimeType.toLowerCase() !== `${kind}/${c.name}`.toLowerCase() || cap.clockRate !== c.clockRate) return false;
  if (kind === 'audio' && (c.channels ?? 1) !== (cap.channels ?? 1)) return false;
  if (c.name.toLowerCase() === 'h264') {
    const p = cap.parameters ?? {};
    if (Number(c.parameters['packetization-mode'] ?? 0) !== Number(p['packetization-mode'] ?? 0)) return false;
    if (h264Profile(c.parameters['profile-level-id']) !== h264Profile(p['profile-level-id'])) return false;
  }
  return true;
}

/** The session-level lines of an answer: ICE-lite and one BUNDLE group of the accepted mids. */
export function answerSessionLines(acceptedMids: string[], extmapAllowMixed: boolean, sessionVersion: number): string[] {
  return [
    'v=0',
    `o=showcase ${sessionVersion} 1 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=ice-lite',
    `a=group:BUNDLE ${acceptedMids.join(' ')}`,
    ...(extmapAllowMixed ? ['a=extmap-allow-mixed'] : []),
    'a=msid-semantic: WMS *',
  ];
}

/**
 * The connection line's address (the first candidate with an IP literal) and its IP version. ICE
 * ignores c= (RFC 8839), but parsers want an address there: an announced host name stays in the
 * candidates only, and c= falls back to 0.0.0.0 when every candidate is a name.
 */
function answerAddress(transport: AnswerTransportInfo): { addr: string; ipv: string; port: number } {
  const literal = (c: types.IceCandidate): string => c.address ?? c.ip ?? '';
  const cand = transport.iceCandidates.find((c) => isIP(literal(c)) !== 0);
  const addr = cand ? literal(cand) : '0.0.0.0';
  return { addr, ipv: isIP(addr) === 6 ? 'IP6' : 'IP4', port: cand?.port ?? transport.iceCandidates[0]?.port ?? 9 };
}

/** A rejected m-section: port 0, inactive. */
export function rejectedSectionLines(s: { kind: string; protocol: string; firstFormat: string; mid: string }, transport: AnswerTransportInfo): string[] {
  const { addr, ipv } = answerAddress(transport);
  return [`m=${s.kind} 0 ${s.protocol} ${s.firstFormat}`, `c=IN ${ipv} ${addr}`, `a=mid:${s.mid}`, 'a=inactive'];
}

/** The start of an accepted m-section: m= and c= lines, mid, direction and the transport's ICE/DTLS lines. */
export function acceptedSectionHead(s: { kind: string; protocol: string; mid: string; rtcpRsize: boolean }, payloadTypes: number[], direction: 'recvonly' | 'sendonly', transport: AnswerTransportInfo): string[] {
  const { addr, ipv, port } = answerAddress(transport);
  const fingerprint = transport.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ?? transport.dtlsParameters.fingerprints[0];
  if (!fingerprint) throw new Error('the transport has no DTLS fingerprint');
  return [
    `m=${s.kind} ${port} ${s.protocol} ${payloadTypes.join(' ')}`,
    `c=IN ${ipv} ${addr}`,
    `a=mid:${s.mid}`,
    `a=${direction}`,
    `a=ice-ufrag:${transport.iceParameters.usernameFragment}`,
    `a=ice-pwd:${transport.iceParameters.password}`,
    `a=fingerprint:${fingerprint.algorithm} ${fingerprint.value}`,
    'a=setup:passive',
    'a=rtcp-mux',
    ...(s.rtcpRsize ? ['a=rtcp-rsize'] : []),
  ];
}

/** a=extmap, a=rtpmap, a=rtcp-fb and a=fmtp lines for a section's negotiated extensions and codecs. */
export function mediaLines(headerExtensions: Array<{ id: number; uri: string }>, codecs: types.RtpCodecParameters[]): string[] {
  const out = headerExtensions.map((h) => `a=extmap:${h.id} ${h.uri}`);
  for (const c of codecs) {
    const [, name] = c.mimeType.split('/');
    out.push(`a=rtpmap:${c.payloadType} ${name}/${c.clockRate}${c.channels && c.channels > 1 ? `/${c.channels}` : ''}`);
    for (const fb of c.rtcpFeedback ?? []) out.push(`a=rtcp-fb:${c.payloadType} ${fb.type}${fb.parameter ? ` ${fb.parameter}` : ''}`);
    if (c.parameters && Object.keys(c.parameters).length) out.push(`a=fmtp:${c.payloadType} ${formatFmtp(c.parameters)}`);
  }
  return out;
}

/** The server's candidates (host only: mediasoup is ICE-lite) and end-of-candidates. */
export function candidateLines(transport: AnswerTransportInfo): string[] {
  const out: string[] = [];
  for (const c of transport.iceCandidates) {
    const a = c.address ?? c.ip;
    out.push(`a=candidate:${c.foundation} 1 ${c.protocol} ${c.priority} ${a} ${c.port} typ host${c.protocol === 'tcp' ? ' tcptype passive' : ''}`);
  }
  out.push('a=end-of-candidates');
  return out;
}
