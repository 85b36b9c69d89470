// WHEP offer translation and answer building on a Chromium-shaped recvonly offer: sections and
// codecs read in offer order, the producer's codec found at the viewer's payload type, only
// extensions whose id matches mediasoup's are negotiated, and broken offers get coded errors.
import t from 'tap';
import type { types } from 'mediasoup';
import { buildWhepAnswer, offeredCodecFor, translateWhepOffer, viewerCapabilities } from '../../src/playback/whep/sdp-whep.js';
import { ShowcaseError } from '../../src/core/errors.js';

const FP = 'sha-256 10:F2:FE:15:98:C6:A3:F6:26:A9:C9:CF:2E:91:0E:28:B8:13:B1:9C:D8:67:09:C7:40:86:8F:94:D9:5A:98:E5';
const OFFER = [
  'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1', 'a=extmap-allow-mixed', 'a=msid-semantic: WMS',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 0', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:abcd', 'a=ice-pwd:0123456789abcdefghijklmn', `a=fingerprint:${FP}`,
  'a=setup:actpass', 'a=mid:0', 'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level', 'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=recvonly', 'a=rtcp-mux', 'a=rtcp-rsize', 'a=rtpmap:111 opus/48000/2', 'a=rtcp-fb:111 transport-cc', 'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2', 'a=rtpmap:0 PCMU/8000',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 103 104', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:abcd', 'a=ice-pwd:0123456789abcdefghijklmn', `a=fingerprint:${FP}`,
  'a=setup:actpass', 'a=mid:1', 'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid', 'a=extmap:11 urn:3gpp:video-orientation', 'a=recvonly', 'a=rtcp-mux', 'a=rtcp-rsize',
  'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 nack pli', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96',
  'a=rtpmap:103 H264/90000', 'a=rtcp-fb:103 nack', 'a=rtcp-fb:103 nack pli', 'a=fmtp:103 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:104 rtx/90000', 'a=fmtp:104 apt=103', '',
].join('\r\n');

const H264: types.RtpCodecParameters = { mimeType: 'video/H264', payloadType: 102, clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 } };
const OPUS: types.RtpCodecParameters = { mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: { minptime: 10, useinbandfec: 1 } };

t.test('a recvonly offer: sections, codecs at the viewer\'s payload types, capabilities for consume()', async (t) => {
  const offer = translateWhepOffer(OFFER);
  t.same(offer.sections.map((s) => [s.mid, s.kind, s.rejected]), [['0', 'audio', undefined], ['1', 'video', undefined]]);
  t.equal(offer.transport.dtlsParameters.role, 'client', 'the browser is the DTLS client (answer setup:passive)');
  const video = offer.sections[1]!;
  t.equal(offeredCodecFor(video, H264)?.payloadType, 103, 'the producer\'s H.264 at the viewer\'s payload type');
  t.equal(offeredCodecFor(video, { ...H264, parameters: { ...H264.parameters, 'profile-level-id': '640c1f' } }), undefined, 'another H.264 profile does not match');
  t.equal(offeredCodecFor(offer.sections[0]!, OPUS)?.payloadType, 111);
  const caps = viewerCapabilities(video, offeredCodecFor(video, H264)!, H264);
  t.equal(caps.codecs![0]!.preferredPayloadType, 103);
  t.same(caps.headerExtensions!.map((h) => [h.uri, h.preferredId]), [['urn:ietf:params:rtp-hdrext:sdes:mid', 4], ['urn:3gpp:video-orientation', 11]]);
});

t.test('the answer: sendonly, the consumer\'s codec, SSRC and cname, passive DTLS, ICE-lite', async (t) => {
  const offer = translateWhepOffer(OFFER);
  const transport = {
    iceParameters: { usernameFragment: 'srvufrag', password: 'srvpassword', iceLite: true },
    iceCandidates: [{ foundation: 'udpcandidate', priority: 1076302079, ip: '127.0.0.1', address: '127.0.0.1', protocol: 'udp' as const, port: 44001, type: 'host' as const }],
    dtlsParameters: { role: 'auto' as const, fingerprints: [{ algorithm: 'sha-256' as const, value: 'AA:BB' }] },
  };
  // Only the video section gets a track: audio is refused in the answer.
  const tracks = new Map([['1', { trackId: 'consumer-1', rtpParameters: { mid: '1', codecs: [{ ...H264, payloadType: 103, rtcpFeedback: [{ type: 'nack', parameter: 'pli' }] }], headerExtensions: [{ uri: 'urn:3gpp:video-orientation' as const, id: 11 }], encodings: [{ ssrc: 1234 }], rtcp: { cname: 'cn' } } }]]);
  const answer = buildWhepAnswer(offer, transport, tracks, 'stream-1', 7);
  t.match(answer, /^v=0\r\no=showcase 7 1 IN IP4 127.0.0.1\r\n/);
  t.match(answer, /a=ice-lite\r\na=group:BUNDLE 1\r\n/);
  t.match(answer, /m=audio 0 UDP\/TLS\/RTP\/SAVPF 111\r\nc=IN IP4 127.0.0.1\r\na=mid:0\r\na=inactive\r\n/, 'audio refused with port 0');
  t.match(answer, /m=video 44001 UDP\/TLS\/RTP\/SAVPF 103\r\n/);
  t.match(answer, /a=sendonly\r\n/);
  t.match(answer, /a=setup:passive\r\n/);
  t.match(answer, /a=extmap:11 urn:3gpp:video-orientation\r\n/);
  t.notMatch(answer, /sdes:mid/, 'extensions whose ids differ from mediasoup\'s are not negotiated');
  t.match(answer, /a=rtpmap:103 H264\/90000\r\na=rtcp-fb:103 nack pli\r\na=fmtp:103 packetization-mode=1;profile-level-id=42e01f;level-asymmetry-allowed=1\r\n/);
  t.match(answer, /a=msid:stream-1 consumer-1\r\na=ssrc:1234 cname:cn\r\na=ssrc:1234 msid:stream-1 consumer-1\r\n/);
  t.match(answer, /a=candidate:udpcandidate 1 udp 1076302079 127.0.0.1 44001 typ host\r\na=end-of-candidates\r\n$/);
});

t.test('broken or unusable offers are coded', async (t) => {
  const code = (sdp: string): string | undefined => { try { translateWhepOffer(sdp); return undefined; } catch (e) { return (e as ShowcaseError).code; } };
  t.equal(code('hello'), 'SHOWCASE_ERR_BAD_REQUEST');
  t.equal(code(OFFER.replace(/a=ice-ufrag:abcd\r\n/g, '')), 'SHOWCASE_ERR_BAD_REQUEST', 'no ICE credentials');
  t.equal(code(OFFER.replace(/a=fingerprint:[^\r]*\r\n/g, '')), 'SHOWCASE_ERR_BAD_REQUEST', 'no DTLS');
  t.equal(code(OFFER.replace(/a=setup:actpass/g, 'a=setup:passive')), 'SHOWCASE_ERR_VALIDATION', 'passive DTLS');
  t.equal(code(OFFER.replace(/a=recvonly/g, 'a=sendonly')), 'SHOWCASE_ERR_VALIDATION', 'nothing receives');
  t.equal(code(OFFER.replace('a=group:BUNDLE 0 1', 'a=group:BUNDLE 0')), 'SHOWCASE_ERR_VALIDATION', 'not bundled');
  t.equal(code(OFFER.replace('a=mid:1', 'a=mid:0')), 'SHOWCASE_ERR_BAD_REQUEST', 'duplicate mid');
  t.equal(code(OFFER.replace('a=mid:1\r\n', 'a=mid:1\r\nnot sdp\r\n')), 'SHOWCASE_ERR_BAD_REQUEST', 'a line sdp-transform would skip');
  t.equal(code(OFFER.replace('a=extmap:11 urn', 'a=extmap:eleven urn')), 'SHOWCASE_ERR_BAD_REQUEST', 'an extmap sdp-transform cannot read');
  t.equal(code(OFFER.replace('a=rtpmap:103 H264/90000', 'a=rtpmap:103 H264')), 'SHOWCASE_ERR_BAD_REQUEST', 'rtpmap without a clock rate');
});
