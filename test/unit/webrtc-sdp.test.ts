// WHIP offer translation and answer building on real offers (captured from Debian Chromium) and
// on an OBS-shaped offer; broken offers give coded errors.
import t from 'tap';
import { translateWhipOffer, buildWhipAnswer, type WhipTransportInfo } from '../../src/webrtc/sdp.js';
import { parse } from 'sdp-transform';
import { parseFmtp } from '../../src/webrtc/sdp-parse.js';
import { ShowcaseError } from '../../src/core/errors.js';

// Offers captured from Debian Chromium 156 (headless, --use-fake-device-for-media-stream, page on
// http://127.0.0.1) with getUserMedia audio + video and sendonly transceivers, verbatim.
/** Audio + video, ICE gathering complete (candidates included). */
const CHROMIUM_OFFER = [
  "v=0",
  "o=- 1422185240476259215 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0 1",
  "a=extmap-allow-mixed",
  "a=msid-semantic: WMS",
  "m=audio 47371 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
  "c=IN IP4 192.0.2.2",
  "a=rtcp:9 IN IP4 0.0.0.0",
  "a=candidate:659586347 1 udp 2122194687 192.0.2.2 47371 typ host generation 0 network-id 1",
  "a=candidate:539103643 1 udp 2122265343 fd00::2 52595 typ host generation 0 network-id 2",
  "a=candidate:1503633331 1 tcp 1518214911 192.0.2.2 9 typ host tcptype active generation 0 network-id 1",
  "a=candidate:1592652547 1 tcp 1518285567 fd00::2 9 typ host tcptype active generation 0 network-id 2",
  "a=ice-ufrag:92PZ",
  "a=ice-pwd:BxyD7pPvLkWNXsVgPChC0cQy",
  "a=ice-options:trickle",
  "a=fingerprint:sha-256 10:F2:FE:15:98:C6:A3:F6:26:A9:C9:CF:2E:91:0E:28:B8:13:B1:9C:D8:67:09:C7:40:86:8F:94:D9:5A:98:E5",
  "a=setup:actpass",
  "a=mid:0",
  "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
  "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
  "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
  "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
  "a=sendonly",
  "a=msid:- da661ef2-27d4-41f5-933b-5366ed8923b8",
  "a=rtcp-mux",
  "a=rtcp-rsize",
  "a=rtcp-xr:rcvr-rtt=all",
  "a=rtpmap:111 opus/48000/2",
  "a=rtcp-fb:111 transport-cc",
  "a=fmtp:111 minptime=10;useinbandfec=1",
  "a=rtpmap:63 red/48000/2",
  "a=fmtp:63 111/111",
  "a=rtpmap:9 G722/8000",
  "a=rtpmap:0 PCMU/8000",
  "a=rtpmap:8 PCMA/8000",
  "a=rtpmap:13 CN/8000",
  "a=rtpmap:110 telephone-event/48000",
  "a=rtpmap:126 telephone-event/8000",
  "a=ssrc:3216009816 cname:D71OstpauyRDW52j",
  "a=ssrc:3216009816 msid:- da661ef2-27d4-41f5-933b-5366ed8923b8",
  "m=video 55220 UDP/TLS/RTP/SAVPF 96 97 102 103 104 107 108 109 114 115 116 117 39 40 45 46 98 99 100 101 118 119 120",
  "c=IN IP4 192.0.2.2",
  "a=rtcp:9 IN IP4 0.0.0.0",
  "a=candidate:659586347 1 udp 2122194687 192.0.2.2 55220 typ host generation 0 network-id 1",
  "a=candidate:539103643 1 udp 2122265343 fd00::2 49848 typ host generation 0 network-id 2",
  "a=candidate:1503633331 1 tcp 1518214911 192.0.2.2 9 typ host tcptype active generation 0 network-id 1",
  "a=candidate:1592652547 1 tcp 1518285567 fd00::2 9 typ host tcptype active generation 0 network-id 2",
  "a=ice-ufrag:92PZ",
  "a=ice-pwd:BxyD7pPvLkWNXsVgPChC0cQy",
  "a=ice-options:trickle",
  "a=fingerprint:sha-256 10:F2:FE:15:98:C6:A3:F6:26:A9:C9:CF:2E:91:0E:28:B8:13:B1:9C:D8:67:09:C7:40:86:8F:94:D9:5A:98:E5",
  "a=setup:actpass",
  "a=mid:1",
  "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset",
  "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
  "a=extmap:13 urn:3gpp:video-orientation",
  "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
  "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
  "a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type",
  "a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing",
  "a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space",
  "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
  "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
  "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
  "a=sendonly",
  "a=msid:- 2c505871-2ec1-4475-bd86-523223facd57",
  "a=rtcp-mux",
  "a=rtcp-rsize",
  "a=rtcp-xr:rcvr-rtt=all",
  "a=rtpmap:96 VP8/90000",
  "a=rtcp-fb:96 goog-remb",
  "a=rtcp-fb:96 transport-cc",
  "a=rtcp-fb:96 ccm fir",
  "a=rtcp-fb:96 nack",
  "a=rtcp-fb:96 nack pli",
  "a=rtpmap:97 rtx/90000",
  "a=fmtp:97 apt=96",
  "a=rtpmap:102 H264/90000",
  "a=rtcp-fb:102 goog-remb",
  "a=rtcp-fb:102 transport-cc",
  "a=rtcp-fb:102 ccm fir",
  "a=rtcp-fb:102 nack",
  "a=rtcp-fb:102 nack pli",
  "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
  "a=rtpmap:103 rtx/90000",
  "a=fmtp:103 apt=102",
  "a=rtpmap:104 H264/90000",
  "a=rtcp-fb:104 goog-remb",
  "a=rtcp-fb:104 transport-cc",
  "a=rtcp-fb:104 ccm fir",
  "a=rtcp-fb:104 nack",
  "a=rtcp-fb:104 nack pli",
  "a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f",
  "a=rtpmap:107 rtx/90000",
  "a=fmtp:107 apt=104",
  "a=rtpmap:108 H264/90000",
  "a=rtcp-fb:108 goog-remb",
  "a=rtcp-fb:108 transport-cc",
  "a=rtcp-fb:108 ccm fir",
  "a=rtcp-fb:108 nack",
  "a=rtcp-fb:108 nack pli",
  "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
  "a=rtpmap:109 rtx/90000",
  "a=fmtp:109 apt=108",
  "a=rtpmap:114 H264/90000",
  "a=rtcp-fb:114 goog-remb",
  "a=rtcp-fb:114 transport-cc",
  "a=rtcp-fb:114 ccm fir",
  "a=rtcp-fb:114 nack",
  "a=rtcp-fb:114 nack pli",
  "a=fmtp:114 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f",
  "a=rtpmap:115 rtx/90000",
  "a=fmtp:115 apt=114",
  "a=rtpmap:116 H264/90000",
  "a=rtcp-fb:116 goog-remb",
  "a=rtcp-fb:116 transport-cc",
  "a=rtcp-fb:116 ccm fir",
  "a=rtcp-fb:116 nack",
  "a=rtcp-fb:116 nack pli",
  "a=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f",
  "a=rtpmap:117 rtx/90000",
  "a=fmtp:117 apt=116",
  "a=rtpmap:39 H264/90000",
  "a=rtcp-fb:39 goog-remb",
  "a=rtcp-fb:39 transport-cc",
  "a=rtcp-fb:39 ccm fir",
  "a=rtcp-fb:39 nack",
  "a=rtcp-fb:39 nack pli",
  "a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f",
  "a=rtpmap:40 rtx/90000",
  "a=fmtp:40 apt=39",
  "a=rtpmap:45 AV1/90000",
  "a=rtcp-fb:45 goog-remb",
  "a=rtcp-fb:45 transport-cc",
  "a=rtcp-fb:45 ccm fir",
  "a=rtcp-fb:45 nack",
  "a=rtcp-fb:45 nack pli",
  "a=fmtp:45 level-idx=5;profile=0;tier=0",
  "a=rtpmap:46 rtx/90000",
  "a=fmtp:46 apt=45",
  "a=rtpmap:98 VP9/90000",
  "a=rtcp-fb:98 goog-remb",
  "a=rtcp-fb:98 transport-cc",
  "a=rtcp-fb:98 ccm fir",
  "a=rtcp-fb:98 nack",
  "a=rtcp-fb:98 nack pli",
  "a=fmtp:98 profile-id=0",
  "a=rtpmap:99 rtx/90000",
  "a=fmtp:99 apt=98",
  "a=rtpmap:100 VP9/90000",
  "a=rtcp-fb:100 goog-remb",
  "a=rtcp-fb:100 transport-cc",
  "a=rtcp-fb:100 ccm fir",
  "a=rtcp-fb:100 nack",
  "a=rtcp-fb:100 nack pli",
  "a=fmtp:100 profile-id=2",
  "a=rtpmap:101 rtx/90000",
  "a=fmtp:101 apt=100",
  "a=rtpmap:118 red/90000",
  "a=rtpmap:119 rtx/90000",
  "a=fmtp:119 apt=118",
  "a=rtpmap:120 ulpfec/90000",
  "a=ssrc-group:FID 370945589 2111004895",
  "a=ssrc:370945589 cname:D71OstpauyRDW52j",
  "a=ssrc:370945589 msid:- 2c505871-2ec1-4475-bd86-523223facd57",
  "a=ssrc:2111004895 cname:D71OstpauyRDW52j",
  "a=ssrc:2111004895 msid:- 2c505871-2ec1-4475-bd86-523223facd57",
].join("\r\n") + "\r\n";
/** Audio + video with two simulcast rids (h, l), before ICE gathering. */
const CHROMIUM_SIMULCAST_OFFER = [
  "v=0",
  "o=- 1547941462393497352 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0 1",
  "a=extmap-allow-mixed",
  "a=msid-semantic: WMS",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
  "c=IN IP4 0.0.0.0",
  "a=rtcp:9 IN IP4 0.0.0.0",
  "a=ice-ufrag:M1d+",
  "a=ice-pwd:eLNSUi6TRz5Rt4wl7Zs0/Czg",
  "a=ice-options:trickle",
  "a=fingerprint:sha-256 E2:BC:F7:0A:B1:74:3C:34:3C:72:22:03:D2:5F:84:B1:F3:3C:14:C2:05:47:8C:2B:FA:9E:2F:C1:70:1B:42:7D",
  "a=setup:actpass",
  "a=mid:0",
  "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
  "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
  "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
  "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
  "a=sendonly",
  "a=msid:- da661ef2-27d4-41f5-933b-5366ed8923b8",
  "a=rtcp-mux",
  "a=rtcp-rsize",
  "a=rtcp-xr:rcvr-rtt=all",
  "a=rtpmap:111 opus/48000/2",
  "a=rtcp-fb:111 transport-cc",
  "a=fmtp:111 minptime=10;useinbandfec=1",
  "a=rtpmap:63 red/48000/2",
  "a=fmtp:63 111/111",
  "a=rtpmap:9 G722/8000",
  "a=rtpmap:0 PCMU/8000",
  "a=rtpmap:8 PCMA/8000",
  "a=rtpmap:13 CN/8000",
  "a=rtpmap:110 telephone-event/48000",
  "a=rtpmap:126 telephone-event/8000",
  "a=ssrc:1843090932 cname:2d7oL9ri98zgQotq",
  "a=ssrc:1843090932 msid:- da661ef2-27d4-41f5-933b-5366ed8923b8",
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 107 108 109 114 115 116 117 39 40 45 46 98 99 100 101 118 119 120",
  "c=IN IP4 0.0.0.0",
  "a=rtcp:9 IN IP4 0.0.0.0",
  "a=ice-ufrag:M1d+",
  "a=ice-pwd:eLNSUi6TRz5Rt4wl7Zs0/Czg",
  "a=ice-options:trickle",
  "a=fingerprint:sha-256 E2:BC:F7:0A:B1:74:3C:34:3C:72:22:03:D2:5F:84:B1:F3:3C:14:C2:05:47:8C:2B:FA:9E:2F:C1:70:1B:42:7D",
  "a=setup:actpass",
  "a=mid:1",
  "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset",
  "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
  "a=extmap:13 urn:3gpp:video-orientation",
  "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
  "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
  "a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type",
  "a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing",
  "a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space",
  "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
  "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
  "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
  "a=extmap:12 https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension",
  "a=extmap:9 http://www.webrtc.org/experiments/rtp-hdrext/video-layers-allocation00",
  "a=sendonly",
  "a=msid:- 2c505871-2ec1-4475-bd86-523223facd57",
  "a=rtcp-mux",
  "a=rtcp-rsize",
  "a=rtcp-xr:rcvr-rtt=all",
  "a=rtpmap:96 VP8/90000",
  "a=rtcp-fb:96 goog-remb",
  "a=rtcp-fb:96 transport-cc",
  "a=rtcp-fb:96 ccm fir",
  "a=rtcp-fb:96 nack",
  "a=rtcp-fb:96 nack pli",
  "a=rtpmap:97 rtx/90000",
  "a=fmtp:97 apt=96",
  "a=rtpmap:102 H264/90000",
  "a=rtcp-fb:102 goog-remb",
  "a=rtcp-fb:102 transport-cc",
  "a=rtcp-fb:102 ccm fir",
  "a=rtcp-fb:102 nack",
  "a=rtcp-fb:102 nack pli",
  "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
  "a=rtpmap:103 rtx/90000",
  "a=fmtp:103 apt=102",
  "a=rtpmap:104 H264/90000",
  "a=rtcp-fb:104 goog-remb",
  "a=rtcp-fb:104 transport-cc",
  "a=rtcp-fb:104 ccm fir",
  "a=rtcp-fb:104 nack",
  "a=rtcp-fb:104 nack pli",
  "a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f",
  "a=rtpmap:107 rtx/90000",
  "a=fmtp:107 apt=104",
  "a=rtpmap:108 H264/90000",
  "a=rtcp-fb:108 goog-remb",
  "a=rtcp-fb:108 transport-cc",
  "a=rtcp-fb:108 ccm fir",
  "a=rtcp-fb:108 nack",
  "a=rtcp-fb:108 nack pli",
  "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
  "a=rtpmap:109 rtx/90000",
  "a=fmtp:109 apt=108",
  "a=rtpmap:114 H264/90000",
  "a=rtcp-fb:114 goog-remb",
  "a=rtcp-fb:114 transport-cc",
  "a=rtcp-fb:114 ccm fir",
  "a=rtcp-fb:114 nack",
  "a=rtcp-fb:114 nack pli",
  "a=fmtp:114 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f",
  "a=rtpmap:115 rtx/90000",
  "a=fmtp:115 apt=114",
  "a=rtpmap:116 H264/90000",
  "a=rtcp-fb:116 goog-remb",
  "a=rtcp-fb:116 transport-cc",
  "a=rtcp-fb:116 ccm fir",
  "a=rtcp-fb:116 nack",
  "a=rtcp-fb:116 nack pli",
  "a=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f",
  "a=rtpmap:117 rtx/90000",
  "a=fmtp:117 apt=116",
  "a=rtpmap:39 H264/90000",
  "a=rtcp-fb:39 goog-remb",
  "a=rtcp-fb:39 transport-cc",
  "a=rtcp-fb:39 ccm fir",
  "a=rtcp-fb:39 nack",
  "a=rtcp-fb:39 nack pli",
  "a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f",
  "a=rtpmap:40 rtx/90000",
  "a=fmtp:40 apt=39",
  "a=rtpmap:45 AV1/90000",
  "a=rtcp-fb:45 goog-remb",
  "a=rtcp-fb:45 transport-cc",
  "a=rtcp-fb:45 ccm fir",
  "a=rtcp-fb:45 nack",
  "a=rtcp-fb:45 nack pli",
  "a=fmtp:45 level-idx=5;profile=0;tier=0",
  "a=rtpmap:46 rtx/90000",
  "a=fmtp:46 apt=45",
  "a=rtpmap:98 VP9/90000",
  "a=rtcp-fb:98 goog-remb",
  "a=rtcp-fb:98 transport-cc",
  "a=rtcp-fb:98 ccm fir",
  "a=rtcp-fb:98 nack",
  "a=rtcp-fb:98 nack pli",
  "a=fmtp:98 profile-id=0",
  "a=rtpmap:99 rtx/90000",
  "a=fmtp:99 apt=98",
  "a=rtpmap:100 VP9/90000",
  "a=rtcp-fb:100 goog-remb",
  "a=rtcp-fb:100 transport-cc",
  "a=rtcp-fb:100 ccm fir",
  "a=rtcp-fb:100 nack",
  "a=rtcp-fb:100 nack pli",
  "a=fmtp:100 profile-id=2",
  "a=rtpmap:101 rtx/90000",
  "a=fmtp:101 apt=100",
  "a=rtpmap:118 red/90000",
  "a=rtpmap:119 rtx/90000",
  "a=fmtp:119 apt=118",
  "a=rtpmap:120 ulpfec/90000",
  "a=rid:h send",
  "a=rid:l send",
  "a=simulcast:send h;l",
].join("\r\n") + "\r\n";

/** Hand-written in the shape libdatachannel (OBS 30's WHIP output) writes: session-level ICE/DTLS, no extmaps. */
const OBS_OFFER = [
  'v=0', 'o=rtc 3767197920 0 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1', 'a=group:LS 0 1', 'a=msid-semantic:WMS *', 'a=setup:actpass',
  'a=ice-ufrag:Zd0V', 'a=ice-pwd:y8ePbq0MBjW8nWp1VBkmVf', 'a=ice-options:ice2,trickle',
  'a=fingerprint:sha-256 3F:6A:1B:0C:8E:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=sendonly', 'a=ssrc:1234 cname:obs', 'a=msid:obs audio', 'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10;maxaveragebitrate=96000;stereo=1;sprop-stereo=1;useinbandfec=1',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=mid:1', 'a=sendonly', 'a=ssrc:5678 cname:obs', 'a=msid:obs video', 'a=rtcp-mux',
  'a=rtpmap:96 H264/90000', 'a=rtcp-fb:96 nack', 'a=rtcp-fb:96 nack pli', 'a=rtcp-fb:96 goog-remb',
  'a=fmtp:96 profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
].join('\r\n') + '\r\n';

const TRANSPORT: WhipTransportInfo = {
  iceParameters: { usernameFragment: 'srvufrag0123456', password: 'srvpassword0123456789012', iceLite: true },
  iceCandidates: [{ foundation: 'udpcandidate', priority: 1076302079, ip: '203.0.113.7', address: '203.0.113.7', protocol: 'udp', port: 40123, type: 'host' }],
  dtlsParameters: { role: 'auto', fingerprints: [{ algorithm: 'sha-256', value: 'AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99' }] },
};

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof ShowcaseError ? e.code : `not coded: ${String(e)}`;
  }
  return undefined;
}

t.test('Chromium offer: opus + H.264 (constrained baseline, packetization-mode 1) with RTX, mid/abs-send-time/transport-cc', async (t) => {
  const offer = translateWhipOffer(CHROMIUM_OFFER);
  t.equal(offer.iceUsernameFragment, '92PZ');
  t.same(offer.dtlsParameters, { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: '10:F2:FE:15:98:C6:A3:F6:26:A9:C9:CF:2E:91:0E:28:B8:13:B1:9C:D8:67:09:C7:40:86:8F:94:D9:5A:98:E5' }] });
  t.equal(offer.sections.length, 2);
  const [audio, video] = offer.sections;
  t.match(audio, { mid: '0', kind: 'audio', rejected: undefined });
  t.same(audio!.rtpParameters!.codecs, [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { minptime: 10, useinbandfec: 1 }, rtcpFeedback: [{ type: 'transport-cc' }] }]);
  t.same(audio!.rtpParameters!.encodings, [{ ssrc: 3216009816 }]);
  t.same(audio!.rtpParameters!.headerExtensions!.map((h) => [h.id, h.uri]), [
    [1, 'urn:ietf:params:rtp-hdrext:ssrc-audio-level'],
    [2, 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time'],
    [3, 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'],
    [4, 'urn:ietf:params:rtp-hdrext:sdes:mid'],
  ]);
  t.equal(audio!.rtpParameters!.mid, '0');
  t.equal(audio!.rtpParameters!.rtcp!.cname, 'D71OstpauyRDW52j');
  t.match(video, { mid: '1', kind: 'video' });
  const vc = video!.rtpParameters!.codecs;
  // 102 (42001f) is plain baseline; 108 (42e01f) is the constrained baseline every decoder takes: both supported, offer order wins.
  t.equal(vc[0]!.mimeType, 'video/H264');
  t.equal(vc[0]!.payloadType, 102);
  t.same(vc[0]!.parameters, { 'level-asymmetry-allowed': 1, 'packetization-mode': 1, 'profile-level-id': '42001f' });
  t.same(vc[0]!.rtcpFeedback, [{ type: 'goog-remb' }, { type: 'transport-cc' }, { type: 'ccm', parameter: 'fir' }, { type: 'nack' }, { type: 'nack', parameter: 'pli' }]);
  t.same(vc[1], { mimeType: 'video/rtx', payloadType: 103, clockRate: 90000, parameters: { apt: 102 }, rtcpFeedback: [] });
  t.equal(vc.length, 2, 'only the chosen codec and its RTX');
  t.same(video!.rtpParameters!.encodings, [{ ssrc: 370945589, rtx: { ssrc: 2111004895 } }], 'FID group gives the RTX ssrc');
  const uris = video!.rtpParameters!.headerExtensions!.map((h) => h.uri);
  t.ok(uris.includes('urn:ietf:params:rtp-hdrext:sdes:mid') && uris.includes('http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time') && uris.includes('http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'));
  t.notOk(uris.some((u) => u.includes('video-timing') || u.includes('color-space')), 'extensions mediasoup does not read are left out');
});

t.test('video preference: VP8 when asked, and constrained baseline only when the router has only that', async (t) => {
  const vp8 = translateWhipOffer(CHROMIUM_OFFER, { videoPreference: ['VP8', 'H264'] });
  t.equal(vp8.sections[1]!.rtpParameters!.codecs[0]!.mimeType, 'video/VP8');
  t.equal(vp8.sections[1]!.rtpParameters!.codecs[1]!.payloadType, 97);
  const cb = translateWhipOffer(CHROMIUM_OFFER, { routerCodecs: [
    { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
    { kind: 'video', mimeType: 'video/H264', clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' } },
  ] });
  t.equal(cb.sections[1]!.rtpParameters!.codecs[0]!.payloadType, 108, '42e01f with packetization-mode 1');
});

t.test('simulcast offer: encodings by rid, answered with recv rids', async (t) => {
  const offer = translateWhipOffer(CHROMIUM_SIMULCAST_OFFER);
  const video = offer.sections[1]!;
  t.same(video.rtpParameters!.encodings, [{ rid: 'h' }, { rid: 'l' }]);
  t.same(video.rids, ['h', 'l']);
  const answer = buildWhipAnswer(offer, TRANSPORT);
  t.match(answer, /a=rid:h recv\r\na=rid:l recv\r\na=simulcast:recv h;l\r\n/);
});

t.test('answer: ICE-lite, passive DTLS, the transport\'s candidates, only the chosen codecs', async (t) => {
  const offer = translateWhipOffer(CHROMIUM_OFFER);
  const answer = buildWhipAnswer(offer, TRANSPORT, 42);
  // Read back with sdp-transform, the parser mediasoup-client uses: every line is one it knows.
  const doc = parse(answer);
  t.equal(doc.icelite, 'ice-lite', 'a=ice-lite');
  t.ok(doc.groups?.some((g) => g.type === 'BUNDLE' && String(g.mids) === '0 1'));
  t.equal(doc.media.length, 2, 'one answer section per offer section, in order');
  t.same(doc.media.map((m) => [m.type, m.port, String(m.payloads)]), [['audio', 40123, '111'], ['video', 40123, '102 103']]);
  t.same([doc.invalid, ...doc.media.map((m) => m.invalid)].filter(Boolean), [], 'no line sdp-transform cannot read');
  const sectionTexts = answer.split(/\r\n(?=m=)/).slice(1);
  doc.media.forEach((m, i) => {
    // Counted in the text too: sdp-transform keeps one value where a line is written twice.
    const a = (n: string) => sectionTexts[i]!.split('\r\n').filter((l) => l === `a=${n}` || l.startsWith(`a=${n}:`)).map((l) => l.slice(n.length + 3));
    t.same(a('setup'), ['passive']);
    t.equal(m.setup, 'passive');
    t.same(a('ice-ufrag'), ['srvufrag0123456']);
    t.equal(String(m.iceUfrag), 'srvufrag0123456');
    t.same(a('ice-pwd'), ['srvpassword0123456789012']);
    t.same(a('fingerprint'), [`sha-256 ${TRANSPORT.dtlsParameters.fingerprints[0]!.value}`]);
    t.same(m.fingerprint, { type: 'sha-256', hash: TRANSPORT.dtlsParameters.fingerprints[0]!.value });
    t.same(a('candidate'), ['udpcandidate 1 udp 1076302079 203.0.113.7 40123 typ host']);
    t.match(m.candidates, [{ foundation: 'udpcandidate', component: 1, transport: 'udp', priority: 1076302079, ip: '203.0.113.7', port: 40123, type: 'host' }]);
    t.ok(a('recvonly').length === 1 && a('rtcp-mux').length === 1 && a('end-of-candidates').length === 1);
    t.ok(m.direction === 'recvonly' && m.rtcpMux && m.endOfCandidates);
  });
  t.match(answer, /a=rtpmap:102 H264\/90000\r\n/);
  t.match(answer, /a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n/);
  t.match(answer, /a=rtpmap:103 rtx\/90000\r\n(a=rtcp-fb[^\r]*\r\n)*a=fmtp:103 apt=102\r\n/);
  t.match(answer, /a=rtpmap:111 opus\/48000\/2\r\n/);
  t.match(answer, /a=extmap:3 http:\/\/www\.ietf\.org\/id\/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n/);
  t.notMatch(answer, /VP8|VP9|AV1|G722|PCMU|red\//, 'codecs not chosen are not in the answer');
  t.ok(answer.endsWith('\r\n') && !/\n(?!$)[^\r\n]*\n/.test(answer.replace(/\r\n/g, '')), 'CRLF line endings');
});

t.test('OBS-shaped offer: session-level ICE and DTLS, H.264 42e01f', async (t) => {
  const offer = translateWhipOffer(OBS_OFFER);
  t.equal(offer.iceUsernameFragment, 'Zd0V');
  t.equal(offer.sections[1]!.rtpParameters!.codecs[0]!.payloadType, 96);
  t.same(offer.sections[1]!.rtpParameters!.encodings, [{ ssrc: 5678 }]);
  t.same(offer.sections[0]!.rtpParameters!.codecs[0]!.parameters, { minptime: 10, maxaveragebitrate: 96000, stereo: 1, 'sprop-stereo': 1, useinbandfec: 1 });
  t.match(buildWhipAnswer(offer, TRANSPORT), /m=video 40123 UDP\/TLS\/RTP\/SAVPF 96\r\n/);
});

t.test('sections the server cannot take are rejected with port 0; the rest still works', async (t) => {
  const withData = CHROMIUM_OFFER.replace('a=group:BUNDLE 0 1', 'a=group:BUNDLE 0 1 2') +
    ['m=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0', 'a=mid:2', 'a=sctp-port:5000'].join('\r\n') + '\r\n';
  const offer = translateWhipOffer(withData);
  t.match(offer.sections[2], { kind: 'application', rejected: /not supported/ });
  const answer = buildWhipAnswer(offer, TRANSPORT);
  t.match(answer, /m=application 0 UDP\/DTLS\/SCTP webrtc-datachannel\r\nc=IN IP4 203\.0\.113\.7\r\na=mid:2\r\na=inactive\r\n/);
  t.match(answer, /a=group:BUNDLE 0 1\r\n/);
  const audioOnlyCodecBad = CHROMIUM_OFFER.replace(/a=rtpmap:111 opus\/48000\/2/, 'a=rtpmap:111 speex/16000');
  const o2 = translateWhipOffer(audioOnlyCodecBad);
  t.match(o2.sections[0], { rejected: /no supported audio codec/ }, 'audio without a usable codec is dropped, video kept');
});

t.test('broken or unacceptable offers give coded errors', async (t) => {
  t.equal(code(() => translateWhipOffer('')), 'SHOWCASE_ERR_BAD_REQUEST', 'empty');
  t.equal(code(() => translateWhipOffer('hello world')), 'SHOWCASE_ERR_BAD_REQUEST', 'not SDP');
  t.equal(code(() => translateWhipOffer('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n')), 'SHOWCASE_ERR_BAD_REQUEST', 'no m= sections');
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace(/a=ice-ufrag:[^\r]*\r\n/g, ''))), 'SHOWCASE_ERR_BAD_REQUEST', 'no ICE credentials');
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace(/a=fingerprint:[^\r]*\r\n/g, ''))), 'SHOWCASE_ERR_BAD_REQUEST', 'no fingerprint');
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace('m=video 55220 UDP/TLS/RTP/SAVPF 96', 'm=video x UDP'))), 'SHOWCASE_ERR_BAD_REQUEST', 'malformed m= line');
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace('a=rtpmap:102 H264/90000', 'a=rtpmap:102 H264'))), 'SHOWCASE_ERR_BAD_REQUEST', 'malformed rtpmap');
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace(/a=setup:actpass/g, 'a=setup:passive'))), 'SHOWCASE_ERR_VALIDATION', 'passive DTLS');
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace('a=group:BUNDLE 0 1', 'a=group:BUNDLE 0'))), 'SHOWCASE_ERR_VALIDATION', 'not bundled');
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace(/a=rtcp-mux\r\n/g, ''))), 'SHOWCASE_ERR_VALIDATION', 'no rtcp-mux');
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace(/a=ssrc[^\r]*\r\n/g, ''))), 'SHOWCASE_ERR_VALIDATION', 'no ssrc and no rid');
  const noH264NoVp8 = CHROMIUM_OFFER.replace(/H264\/90000/g, 'H265/90000').replace(/VP8\/90000/g, 'VP7/90000');
  t.equal(code(() => translateWhipOffer(noH264NoVp8)), 'SHOWCASE_ERR_VALIDATION', 'no supported video codec');
  t.match(String((() => { try { translateWhipOffer(noH264NoVp8); } catch (e) { return (e as Error).message; } })()), /no supported video codec offered \(offered: .*H265.*supported: .*H264/);
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace('a=sendonly\r\na=msid:- 2c50', 'a=recvonly\r\na=msid:- 2c50'))), 'SHOWCASE_ERR_VALIDATION', 'video not sending');
  t.equal(code(() => translateWhipOffer('v=0\r\n' + 'a=x\r\n'.repeat(20000))), 'SHOWCASE_ERR_BAD_REQUEST', 'oversized');
});

t.test('fmtp parameters keep profile-level-id as text', async (t) => {
  t.same(parseFmtp('profile-level-id=640032;packetization-mode=1; apt = 96'), { 'profile-level-id': '640032', 'packetization-mode': 1, apt: 96 });
});

t.test('an announced host name stays in the candidates; c= keeps an IP literal', async (t) => {
  const offer = translateWhipOffer(CHROMIUM_OFFER);
  const named: WhipTransportInfo = { ...TRANSPORT, iceCandidates: [
    { foundation: 'udpcandidate', priority: 1076302079, ip: 'live.example.com', address: 'live.example.com', protocol: 'udp', port: 40123, type: 'host' },
    { foundation: 'udpcandidate', priority: 1076301979, ip: '2001:db8::7', address: '2001:db8::7', protocol: 'udp', port: 40124, type: 'host' },
  ] };
  const answer = buildWhipAnswer(offer, named);
  t.match(answer, /a=candidate:udpcandidate 1 udp 1076302079 live\.example\.com 40123 typ host\r\n/);
  t.match(answer, /a=candidate:udpcandidate 1 udp 1076301979 2001:db8::7 40124 typ host\r\n/);
  t.match(answer, /c=IN IP6 2001:db8::7\r\n/);
  t.notMatch(answer, /c=IN IP4 live\.example\.com/);
  const onlyName = buildWhipAnswer(offer, { ...named, iceCandidates: named.iceCandidates.slice(0, 1) });
  t.match(onlyName, /c=IN IP4 0\.0\.0\.0\r\n/, 'no literal: c= falls back to 0.0.0.0 (ICE ignores it)');
});

t.test('offers sdp-transform reads without complaint but the server refuses', async (t) => {
  // sdp-transform skips lines that are not "<type>=", opens a section for an m= line it cannot read,
  // keeps unreadable attributes under `invalid` and reads "H264" without a clock rate.
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace('a=mid:1\r\n', 'a=mid:1\r\nnot an sdp line\r\n'))), 'SHOWCASE_ERR_BAD_REQUEST', 'a line that is not <type>=<value>');
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace('m=video 55220', 'm=video 55220/2'))), 'SHOWCASE_ERR_BAD_REQUEST', 'an m= line its grammar cannot read');
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace('SAVPF 96 97 102', 'SAVPF 96 97 300 102'))), 'SHOWCASE_ERR_BAD_REQUEST', 'payload type above 127');
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace('SAVPF 96 97 102', 'SAVPF 96 97 x 102'))), 'SHOWCASE_ERR_BAD_REQUEST', 'payload type that is not a number');
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace('a=rtpmap:102 H264/90000', 'a=rtpmap:102'))), 'SHOWCASE_ERR_BAD_REQUEST', 'rtpmap without a codec');
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace('a=rtpmap:111 opus/48000/2', 'a=rtpmap:111 opus/48000/two'))), 'SHOWCASE_ERR_BAD_REQUEST', 'rtpmap with channels that are not a number');
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace('a=extmap:14 urn', 'a=extmap:x urn'))), 'SHOWCASE_ERR_BAD_REQUEST', 'extmap without an id');
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace('a=extmap:14 urn', 'a=extmap:0 urn'))), 'SHOWCASE_ERR_BAD_REQUEST', 'extmap id 0');
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace('a=extmap:14 urn', 'a=extmap:256 urn'))), 'SHOWCASE_ERR_BAD_REQUEST', 'extmap id above 255');
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace('a=fmtp:102 level', 'a=fmtp:x level'))), 'SHOWCASE_ERR_BAD_REQUEST', 'fmtp without a payload type');
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace('a=ssrc:370945589 cname', 'a=ssrc:abc cname'))), 'SHOWCASE_ERR_BAD_REQUEST', 'ssrc that is not a number');
  t.equal(code(() => translateWhipOffer(CHROMIUM_SIMULCAST_OFFER.replace('a=rid:h send', 'a=rid:h'))), 'SHOWCASE_ERR_BAD_REQUEST', 'rid without a direction');
  const noPt = translateWhipOffer(CHROMIUM_OFFER.replace('SAVPF 111 63 9 0 8', 'SAVPF 0 111 63 9 8').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap: opus/48000/2'));
  t.equal(noPt.sections[0]!.rtpParameters!.codecs[0]!.payloadType, 111, 'an rtpmap without a payload type is not read as payload type 0');
  const manyLines = 'v=0\r\n' + 'a=x\r\n'.repeat(1500);
  t.ok(manyLines.length < 64 * 1024, 'under the byte bound');
  t.match(String((() => { try { translateWhipOffer(manyLines); } catch (e) { return (e as Error).message; } })()), /more than 1000 lines/, 'the line bound holds below the byte bound');
  t.equal(code(() => translateWhipOffer(CHROMIUM_OFFER.replace(/\r\n/g, '\r'))), undefined, 'CR line ends are SDP too (counted the way sdp-transform splits)');
});

t.test('values sdp-transform reads as numbers stay strings', async (t) => {
  const digits = OBS_OFFER.replace('a=ice-ufrag:Zd0V', 'a=ice-ufrag:1234').replace('a=ice-pwd:y8ePbq0MBjW8nWp1VBkmVf', 'a=ice-pwd:123456789012345678901234')
    .replace('a=ssrc:5678 cname:obs', 'a=ssrc:5678 cname:42');
  const offer = translateWhipOffer(digits);
  t.equal(offer.iceUsernameFragment, '1234');
  t.equal(offer.sections[0]!.mid, '0');
  t.equal(offer.sections[1]!.rtpParameters!.mid, '1');
  t.equal(offer.sections[1]!.rtpParameters!.rtcp!.cname, '42');
  const answer = buildWhipAnswer(offer, TRANSPORT);
  t.match(answer, /a=group:BUNDLE 0 1\r\n/);
  t.match(answer, /a=mid:1\r\n/);
  const numericRids = CHROMIUM_SIMULCAST_OFFER.replace('a=rid:h send\r\na=rid:l send\r\na=simulcast:send h;l', 'a=rid:1 send\r\na=rid:2 send\r\na=simulcast:send 1;2');
  t.same(translateWhipOffer(numericRids).sections[1]!.rtpParameters!.encodings, [{ rid: '1' }, { rid: '2' }]);
});

t.test('simulcast: the first alternative of each stream, paused streams left out', async (t) => {
  const alt = CHROMIUM_SIMULCAST_OFFER.replace('a=rid:l send\r\na=simulcast:send h;l', 'a=rid:l send\r\na=rid:m send\r\na=rid:x send\r\na=simulcast:send h,x;~m;l');
  const video = translateWhipOffer(alt).sections[1]!;
  t.same(video.rids, ['h', 'l']);
  const recvFirst = CHROMIUM_SIMULCAST_OFFER.replace('a=simulcast:send h;l', 'a=simulcast:recv q send h;l');
  t.same(translateWhipOffer(recvFirst).sections[1]!.rids, ['h', 'l'], 'the send list when it comes second');
});
