/**
 * A minimal ISO-BMFF (fragmented MP4) reader: just what the LL-HLS packager needs to cut ffmpeg's
 * CMAF output into parts and describe it in playlists (track timescales, codecs, resolution,
 * fragment start times, durations and keyframe flags). Written by hand because the packager sees
 * every fragment of every rendition on the hot path and needs only a dozen fields; full MP4
 * libraries parse (and allocate) far more.
 */

export interface TrackInfo {
  trackId: number;
  kind: 'video' | 'audio' | 'other';
  timescale: number;
  /** RFC 6381 codec string, e.g. avc1.64001f or mp4a.40.2. */
  codec: string;
  width?: number;
  height?: number;
  /** trex defaults, used when tfhd/trun leave a field out. */
  defaultSampleDuration: number;
  defaultSampleFlags: number;
}

export interface InitInfo {
  tracks: TrackInfo[];
}

export interface FragmentTrackInfo {
  trackId: number;
  baseMediaDecodeTime: number;
  duration: number;
  sampleCount: number;
  /** First sample is a sync sample. */
  keyframe: boolean;
}

export interface FragmentInfo {
  tracks: FragmentTrackInfo[];
}

/** Reads a box header at offset; returns null when the header is not complete. */
export function readBoxHeader(buf: Buffer, offset: number): { type: string; size: number; headerSize: number } | null {
  if (buf.length - offset < 8) return null;
  let size = buf.readUInt32BE(offset);
  const type = buf.toString('latin1', offset + 4, offset + 8);
  let headerSize = 8;
  if (size === 1) {
    if (buf.length - offset < 16) return null;
    const big = buf.readBigUInt64BE(offset + 8);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`box ${type} too large`);
    size = Number(big);
    headerSize = 16;
  } else if (size === 0) {
    throw new Error(`box ${type} extends to end of file: not supported on a live stream`);
  }
  if (size < headerSize) throw new Error(`box ${type} has invalid size ${size}`);
  return { type, size, headerSize };
}

/** Iterates the child boxes of a container payload. */
function* children(buf: Buffer, start: number, end: number): Generator<{ type: string; start: number; end: number; body: number }> {
  let offset = start;
  while (offset + 8 <= end) {
    const h = readBoxHeader(buf, offset);
    if (!h || offset + h.size > end) return;
    yield { type: h.type, start: offset, end: offset + h.size, body: offset + h.headerSize };
    offset += h.size;
  }
}

function find(buf: Buffer, start: number, end: number, type: string): { start: number; end: number; body: number } | undefined {
  for (const c of children(buf, start, end)) if (c.type === type) return c;
  return undefined;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Parses an init segment (ftyp + moov). */
export function parseInit(buf: Buffer): InitInfo {
  const moov = find(buf, 0, buf.length, 'moov');
  if (!moov) throw new Error('init segment has no moov');
  const trexDefaults = new Map<number, { duration: number; flags: number }>();
  const mvex = find(buf, moov.body, moov.end, 'mvex');
  if (mvex) {
    for (const c of children(buf, mvex.body, mvex.end)) {
      if (c.type !== 'trex') continue;
      const p = c.body + 4;
      trexDefaults.set(buf.readUInt32BE(p), { duration: buf.readUInt32BE(p + 8), flags: buf.readUInt32BE(p + 16) });
    }
  }
  const tracks: TrackInfo[] = [];
  for (const trak of children(buf, moov.body, moov.end)) {
    if (trak.type !== 'trak') continue;
    const tkhd = find(buf, trak.body, trak.end, 'tkhd');
    const mdia = find(buf, trak.body, trak.end, 'mdia');
    if (!tkhd || !mdia) continue;
    const tkVersion = buf[tkhd.body]!;
    const trackId = buf.readUInt32BE(tkhd.body + (tkVersion === 1 ? 20 : 12));
    const mdhd = find(buf, mdia.body, mdia.end, 'mdhd');
    const hdlr = find(buf, mdia.body, mdia.end, 'hdlr');
    if (!mdhd || !hdlr) continue;
    const mdVersion = buf[mdhd.body]!;
    const timescale = buf.readUInt32BE(mdhd.body + (mdVersion === 1 ? 20 : 12));
    const handler = buf.toString('latin1', hdlr.body + 8, hdlr.body + 12);
    const kind = handler === 'vide' ? 'video' : handler === 'soun' ? 'audio' : 'other';
    const track: TrackInfo = { trackId, kind, timescale, codec: '', defaultSampleDuration: 0, defaultSampleFlags: 0 };
    const d = trexDefaults.get(trackId);
    if (d) {
      track.defaultSampleDuration = d.duration;
      track.defaultSampleFlags = d.flags;
    }
    const stsd = findPath(buf, mdia.body, mdia.end, ['minf', 'stbl', 'stsd']);
    if (stsd) {
      const entry = readBoxHeader(buf, stsd.body + 8);
      if (entry) {
        const eStart = stsd.body + 8;
        const format = entry.type;
        if (format === 'avc1' || format === 'avc3') {
          // VisualSampleEntry: 8 bytes SampleEntry + 16 pre-defined/reserved, then width, height.
          track.width = buf.readUInt16BE(eStart + 8 + 24);
          track.height = buf.readUInt16BE(eStart + 8 + 26);
          const avcC = find(buf, eStart + 8 + 78, eStart + entry.size, 'avcC');
          track.codec = avcC ? `${format}.${hex2(buf[avcC.body + 1]!)}${hex2(buf[avcC.body + 2]!)}${hex2(buf[avcC.body + 3]!)}` : format;
        } else if (format === 'mp4a') {
          track.codec = `mp4a.40.${aacObjectType(buf, eStart + 8 + 28, eStart + entry.size) ?? 2}`;
        } else {
          track.codec = format;
        }
      }
    }
    tracks.push(track);
  }
  return { tracks };
}

function findPath(buf: Buffer, start: number, end: number, path: string[]): { start: number; end: number; body: number } | undefined {
  let cur: { start: number; end: number; body: number } | undefined = { start, end, body: start };
  for (const type of path) {
    cur = find(buf, cur.body, cur.end, type);
    if (!cur) return undefined;
  }
  return cur;
}

/** Reads the AAC audio object type from an esds box's DecoderSpecificInfo. */
function aacObjectType(buf: Buffer, start: number, end: number): number | undefined {
  const esds = find(buf, start, end, 'esds');
  if (!esds) return undefined;
  // Scan descriptors for tag 0x05 (DecoderSpecificInfo); its first 5 bits are the object type.
  for (let i = esds.body + 4; i < esds.end - 2; i++) {
    if (buf[i] !== 0x05) continue;
    let j = i + 1;
    let len = 0;
    for (let k = 0; k < 4 && j < esds.end; k++, j++) {
      len = (len << 7) | (buf[j]! & 0x7f);
      if ((buf[j]! & 0x80) === 0) { j++; break; }
    }
    if (len >= 1 && j < esds.end) return buf[j]! >> 3;
  }
  return undefined;
}

const SAMPLE_IS_NON_SYNC = 0x00010000;

function isSyncFlags(flags: number): boolean {
  const dependsOn = (flags >> 24) & 0x3;
  return (flags & SAMPLE_IS_NON_SYNC) === 0 && dependsOn !== 1;
}

/** Parses a moof box (the buffer may hold moof + mdat) against its init's track defaults. */
export function parseFragment(buf: Buffer, init: InitInfo): FragmentInfo {
  const moof = find(buf, 0, buf.length, 'moof');
  if (!moof) throw new Error('fragment has no moof');
  const tracks: FragmentTrackInfo[] = [];
  for (const traf of children(buf, moof.body, moof.end)) {
    if (traf.type !== 'traf') continue;
    const tfhd = find(buf, traf.body, traf.end, 'tfhd');
    if (!tfhd) continue;
    const tfFlags = buf.readUInt32BE(tfhd.body) & 0xffffff;
    const trackId = buf.readUInt32BE(tfhd.body + 4);
    const track = init.tracks.find((t) => t.trackId === trackId);
    let p = tfhd.body + 8;
    if (tfFlags & 0x01) p += 8; // base-data-offset
    if (tfFlags & 0x02) p += 4; // sample-description-index
    let defDuration = track?.defaultSampleDuration ?? 0;
    let defFlags = track?.defaultSampleFlags ?? 0;
    if (tfFlags & 0x08) { defDuration = buf.readUInt32BE(p); p += 4; }
    if (tfFlags & 0x10) p += 4; // default-sample-size
    if (tfFlags & 0x20) defFlags = buf.readUInt32BE(p);
    let base = 0;
    const tfdt = find(buf, traf.body, traf.end, 'tfdt');
    if (tfdt) base = buf[tfdt.body] === 1 ? Number(buf.readBigUInt64BE(tfdt.body + 4)) : buf.readUInt32BE(tfdt.body + 4);
    let duration = 0;
    let sampleCount = 0;
    let keyframe: boolean | undefined;
    for (const trun of children(buf, traf.body, traf.end)) {
      if (trun.type !== 'trun') continue;
      const flags = buf.readUInt32BE(trun.body) & 0xffffff;
      const count = buf.readUInt32BE(trun.body + 4);
      let q = trun.body + 8;
      if (flags & 0x01) q += 4; // data-offset
      let firstFlags: number | undefined;
      if (flags & 0x04) { firstFlags = buf.readUInt32BE(q); q += 4; }
      const perSample = ((flags & 0x100) ? 4 : 0) + ((flags & 0x200) ? 4 : 0) + ((flags & 0x400) ? 4 : 0) + ((flags & 0x800) ? 4 : 0);
      if (q + perSample * count > trun.end) throw new Error('trun overruns its box');
      for (let i = 0; i < count; i++) {
        let r = q + i * perSample;
        let d = defDuration;
        if (flags & 0x100) { d = buf.readUInt32BE(r); r += 4; }
        if (flags & 0x200) r += 4;
        let f = i === 0 && firstFlags !== undefined ? firstFlags : defFlags;
        if (flags & 0x400) { f = buf.readUInt32BE(r); }
        if (keyframe === undefined) keyframe = isSyncFlags(f);
        duration += d;
      }
      sampleCount += count;
    }
    tracks.push({ trackId, baseMediaDecodeTime: base, duration, sampleCount, keyframe: keyframe ?? false });
  }
  return { tracks };
}
