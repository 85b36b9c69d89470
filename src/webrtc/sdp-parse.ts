import { parse, parseParams, type MediaDescription, type SessionDescription } from 'sdp-transform';
import { ShowcaseError } from '../core/errors.js';

// Offers are read with sdp-transform (the SDP grammar mediasoup-client itself uses). What stays our
// own is what sdp-transform leaves to its caller: it takes any text (lines it cannot read are dropped
// or kept under `invalid`), has no size bound, and turns every all-digit value into a number
// ("a=mid:0" reads as 0 though its types say string). So an offer is bounded before it is parsed,
// refused when it is not SDP at all, and the fields we read are turned back into strings here, once.

/** A parsed offer (sdp-transform's session description, with the string fields we read as strings). */
export type SdpSession = SessionDescription;
/** One m-section of a parsed offer. */
export type SdpMedia = MediaDescription;

/** Upper bound on an offer's size (a real browser offer is 5-8 KB). */
export const SDP_MAX_BYTES = 64 * 1024;
// An attribute line sdp-transform does not know is tried against all of its ~60 patterns (~14 µs
// here), so the line count is what bounds the parse time: 2000 such lines took 28 ms of event loop
// (the hand-written reader: 0.7 ms), 1000 take half that. A browser offer has ~150 lines.
const SDP_MAX_LINES = 1000;

/**
 * Attributes the translation reads into mediasoup parameters: one of these that sdp-transform's
 * grammar cannot read lands in `invalid`, and ignoring it would silently change what the server
 * negotiates, so it refuses the offer instead.
 */
const MUST_PARSE = ['rtpmap', 'fmtp', 'extmap', 'ssrc', 'ssrc-group', 'rid'];

/** Parses an offer; throws SHOWCASE_ERR_BAD_REQUEST for anything that is not bounded, well-formed SDP. */
export function parseSdp(text: string): SdpSession {
  if (typeof text !== 'string' || text.length === 0) throw badSdp('the offer is empty');
  if (text.length > SDP_MAX_BYTES) throw badSdp(`the offer is larger than ${SDP_MAX_BYTES} bytes`);
  // The same line split sdp-transform makes, so the bound counts the lines it will read.
  const lines = text.split(/\r\n|\r|\n/).filter((l) => l.length > 0);
  if (lines.length > SDP_MAX_LINES) throw badSdp(`the offer has more than ${SDP_MAX_LINES} lines`);
  if (lines[0] !== 'v=0') throw badSdp('an SDP offer starts with v=0');
  // sdp-transform skips lines that are not "<type>=<value>"; an offer with such lines is not SDP.
  const bad = lines.findIndex((l) => !/^[a-z]=/.test(l));
  if (bad >= 0) throw badSdp(`line ${bad + 1} is not "<type>=<value>": ${JSON.stringify(lines[bad]!.slice(0, 80))}`);
  const doc = parse(text);
  if (doc.media.length === 0) throw badSdp('the offer has no m= sections');
  const mLines = lines.filter((l) => l.startsWith('m='));
  doc.media.forEach((m, i) => {
    // An m= line its grammar cannot read still opens a section, with no type, port or protocol.
    if (!m.type || typeof m.port !== 'number' || !m.protocol) throw badSdp(`malformed m= line ${JSON.stringify(mLines[i]?.slice(0, 80))}`);
    m.type = String(m.type);
    m.protocol = String(m.protocol);
    m.payloads = m.payloads === undefined ? undefined : String(m.payloads);
    for (const inv of m.invalid ?? []) {
      const name = /^([\w-]+)/.exec(String(inv.value))?.[1];
      if (name && MUST_PARSE.includes(name)) throw badSdp(`m=${m.type}: malformed a=${String(inv.value).slice(0, 80)}`);
    }
    stringify(m, ['mid', 'iceUfrag', 'icePwd', 'setup']);
    for (const r of m.rids ?? []) r.id = String(r.id);
    for (const g of m.ssrcGroups ?? []) g.ssrcs = String(g.ssrcs);
    for (const s of m.ssrcs ?? []) if (s.value !== undefined) s.value = String(s.value);
    if (m.simulcast) {
      m.simulcast.list1 = String(m.simulcast.list1);
      if (m.simulcast.list2 !== undefined) m.simulcast.list2 = String(m.simulcast.list2);
    }
    if (m.fingerprint) m.fingerprint = { type: String(m.fingerprint.type), hash: String(m.fingerprint.hash) };
  });
  stringify(doc, ['iceUfrag', 'icePwd', 'setup']);
  for (const g of doc.groups ?? []) g.mids = String(g.mids);
  if (doc.fingerprint) doc.fingerprint = { type: String(doc.fingerprint.type), hash: String(doc.fingerprint.hash) };
  return doc;
}

/** Turns sdp-transform's numbers back into the text they were written as (its number test is exact: String(n) is that text). */
function stringify<T extends object>(o: T, keys: Array<keyof T & string>): void {
  for (const k of keys) if (o[k] !== undefined) (o as Record<string, unknown>)[k] = String(o[k]);
}

/**
 * An fmtp parameter list ("a=1;b=x") as mediasoup's parameter map. sdp-transform splits it; the
 * values are then read our way: keys and values trimmed ("apt = 96" is apt 96), flags without a
 * value left out, and numbers only for plain integers, never profile-level-id (hex text: "640032"
 * would otherwise lose its meaning as a number).
 */
export function parseFmtp(params: string): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [rawKey, rawVal] of Object.entries(parseParams(params))) {
    if (rawVal === undefined) continue;
    const key = rawKey.trim();
    const val = String(rawVal).trim();
    if (!key) continue;
    out[key] = key !== 'profile-level-id' && /^\d{1,15}$/.test(val) ? Number(val) : val;
  }
  return out;
}

/** Writes a parameter map back as an fmtp list. */
export function formatFmtp(params: Record<string, unknown>): string {
  return Object.entries(params).map(([k, v]) => `${k}=${String(v)}`).join(';');
}

/** A SHOWCASE_ERR_BAD_REQUEST for text that is not a usable SDP document. */
export function badSdp(reason: string): ShowcaseError {
  return new ShowcaseError('SHOWCASE_ERR_BAD_REQUEST', `bad SDP offer: ${reason}`, { reason });
}

/** A SHOWCASE_ERR_VALIDATION for a well-formed offer the server cannot accept. */
export function unacceptableSdp(reason: string): ShowcaseError {
  return new ShowcaseError('SHOWCASE_ERR_VALIDATION', `unacceptable SDP offer: ${reason}`, { reason });
}
