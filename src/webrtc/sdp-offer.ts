import { isIP } from 'node:net';
import type { types } from 'mediasoup';
import { attr, attrs, badSdp, formatFmtp, parseFmtp, unacceptableSdp, type SdpDocument, type SdpMediaSection } from './sdp-lines.js';

// What WHIP (publish) and WHEP (play) offers have in common: the browser is the offerer, the
// server answers ICE-lite and DTLS passive over one BUNDLEd, rtcp-muxed transport. Direction-specific
// translation lives in sdp.ts (WHIP) and sdp-whep.ts (WHEP).

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
export function parseOfferTransport(doc: SdpDocument): OfferTransport {
  const first = doc.media[0];
  const ufrag = attr(first, doc, 'ice-ufrag');
  const pwd = attr(first, doc, 'ice-pwd');
  if (!ufrag || !pwd) throw badSdp('no a=ice-ufrag / a=ice-pwd');
  const fingerprints = fingerprintsOf(first, doc);
  if (fingerprints.length === 0) throw badSdp('no usable a=fingerprint (DTLS is required)');
  const setup = attr(first, doc, 'setup') ?? 'actpass';
  if (setup !== 'actpass' && setup !== 'active') throw unacceptableSdp(`a=setup:${setup}: the server answers as DTLS server (passive), so the offer must be actpass or active`);
  const bundle = doc.attributes.find((a) => a.name === 'group' && a.value.startsWith('BUNDLE '))?.value.split(' ').slice(1) ?? [];
  return {
    // The answer says setup:passive, so the browser is the DTLS client (mediasoup takes the remote role).
    dtlsParameters: { role: 'client', fingerprints },
    iceUsernameFragment: ufrag,
    bundle,
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

/** The m-section's a=mid, or its index when it has none. */
export function midOf(m: SdpMediaSection, index: number): string {
  return attrs(m.attributes, 'mid')[0] ?? String(index);
}

/** The m-section's direction attribute (sendrecv when absent, as RFC 3264 says). */
export function directionOf(m: SdpMediaSection): 'sendonly' | 'sendrecv' | 'recvonly' | 'inactive' {
  return (['sendonly', 'sendrecv', 'recvonly', 'inactive'] as const).find((d) => m.attributes.some((a) => a.name === d)) ?? 'sendrecv';
}

/** Why an audio/video section cannot be carried at all (undefined when it can). */
export function unusableSection(m: SdpMediaSection): string | undefined {
  if (m.kind !== 'audio' && m.kind !== 'video') return `${m.kind} sections are not supported`;
  if (m.port === 0) return 'the offer disabled it (port 0)';
  if (!/^(UDP\/TLS\/RTP\/SAVPF|UDP\/TLS\/RTP\/SAVP|TCP\/TLS\/RTP\/SAVPF)$/.test(m.protocol)) return `protocol ${m.protocol} is not DTLS-SRTP`;
  return undefined;
}

/** Throws unless the section is in the BUNDLE group and multiplexes RTCP (one transport for all). */
export function requireBundledMux(m: SdpMediaSection, mid: string, bundle: string[]): void {
  if (!bundle.includes(mid)) throw unacceptableSdp(`m=${m.kind} (mid ${mid}) is not in a=group:BUNDLE: one transport carries everything`);
  if (!m.attributes.some((a) => a.name === 'rtcp-mux')) throw unacceptableSdp(`m=${m.kind} (mid ${mid}) lacks a=rtcp-mux`);
}

/** Every codec an m-section offers, with its fmtp parameters and the RTCP feedback we understand. */
export function offeredCodecs(m: SdpMediaSection): OfferedCodec[] {
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

/** Every a=extmap of a section as (id, uri); throws on malformed lines or ids out of range. */
export function offeredExtensions(m: SdpMediaSection): Array<{ id: number; uri: string }> {
  const out: Array<{ id: number; uri: string }> = [];
  for (const v of attrs(m.attributes, 'extmap')) {
    const em = /^(\d+)(?:\/\w+)? (\S+)/.exec(v);
    if (!em) throw badSdp(`malformed a=extmap:${v}`);
    const id = Number(em[1]);
    if (id < 1 || id > 255) throw badSdp(`a=extmap id ${id} is out of range`);
    out.push({ id, uri: em[2]! });
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
