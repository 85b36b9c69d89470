import { ShowcaseError } from '../core/errors.js';

// A hand-written SDP reader: the project has no SDP library (sdp-transform is not a dependency and
// installs are pinned), and WHIP needs only the line grammar of RFC 8866 plus a few attributes.

/** One `a=` line: the name and the text after the first colon ('' for flag attributes). */
export interface SdpAttribute {
  name: string;
  value: string;
}

/** One m-section as written: media, port, protocol, formats, and its attributes in order. */
export interface SdpMediaSection {
  kind: string;
  port: number;
  protocol: string;
  formats: string[];
  attributes: SdpAttribute[];
}

/** A parsed SDP document: session-level attributes and the m-sections. */
export interface SdpDocument {
  attributes: SdpAttribute[];
  media: SdpMediaSection[];
}

/** Upper bound on an offer's size and line count (a real browser offer is 5-8 KB, ~150 lines). */
export const SDP_MAX_BYTES = 64 * 1024;
const SDP_MAX_LINES = 2000;

/** Parses the SDP line grammar; throws SHOWCASE_ERR_BAD_REQUEST for anything that is not SDP. */
export function parseSdp(text: string): SdpDocument {
  if (typeof text !== 'string' || text.length === 0) throw badSdp('the offer is empty');
  if (text.length > SDP_MAX_BYTES) throw badSdp(`the offer is larger than ${SDP_MAX_BYTES} bytes`);
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines.length > SDP_MAX_LINES) throw badSdp(`the offer has more than ${SDP_MAX_LINES} lines`);
  if (lines[0] !== 'v=0') throw badSdp('an SDP offer starts with v=0');
  const doc: SdpDocument = { attributes: [], media: [] };
  let current: SdpMediaSection | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!/^[a-z]=/.test(line)) throw badSdp(`line ${i + 1} is not "<type>=<value>": ${JSON.stringify(line.slice(0, 80))}`);
    const type = line[0];
    const value = line.slice(2);
    if (type === 'm') {
      const m = /^(\w+) (\d+)(?:\/\d+)? (\S+)((?: \S+)*)$/.exec(value);
      if (!m) throw badSdp(`line ${i + 1}: malformed m= line ${JSON.stringify(line.slice(0, 80))}`);
      current = { kind: m[1]!, port: Number(m[2]), protocol: m[3]!, formats: m[4]!.trim().split(' ').filter(Boolean), attributes: [] };
      doc.media.push(current);
    } else if (type === 'a') {
      const colon = value.indexOf(':');
      const attr = colon < 0 ? { name: value, value: '' } : { name: value.slice(0, colon), value: value.slice(colon + 1) };
      (current ? current.attributes : doc.attributes).push(attr);
    }
  }
  if (doc.media.length === 0) throw badSdp('the offer has no m= sections');
  return doc;
}

/** The first value of attribute `name` (media level first, then session level). */
export function attr(section: SdpMediaSection | undefined, doc: SdpDocument, name: string): string | undefined {
  return section?.attributes.find((a) => a.name === name)?.value ?? doc.attributes.find((a) => a.name === name)?.value;
}

/** Every value of attribute `name` in a list of attributes. */
export function attrs(list: SdpAttribute[], name: string): string[] {
  return list.filter((a) => a.name === name).map((a) => a.value);
}

/** Parses an fmtp parameter list ("a=1;b=x") into mediasoup's parameter map (numbers where numeric). */
export function parseFmtp(params: string): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const part of params.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    const val = part.slice(eq + 1).trim();
    // profile-level-id is hex text ("640c1f" would otherwise lose its meaning as a number).
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
