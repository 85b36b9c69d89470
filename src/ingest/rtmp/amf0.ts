/**
 * AMF0, the value encoding of RTMP commands and metadata. Hand-written because the wire format is
 * small and every npm decoder we looked at trusts declared counts and nesting; this one is bounded
 * (depth, element counts, and every length checked against the bytes present before it is read)
 * and throws AmfError on malformed input instead of allocating or recursing on the sender's word.
 */

export type AmfValue = number | boolean | string | null | undefined | Date | AmfValue[] | { [k: string]: AmfValue };

/** Malformed or over-limit AMF0 input. */
export class AmfError extends Error {
  override name = 'AmfError';
}

/** Nesting deeper than this is refused (publishers send depth 2 at most). */
export const AMF0_MAX_DEPTH = 16;
/** More values, properties or array elements than this in one message are refused. */
export const AMF0_MAX_ELEMENTS = 4096;

const Marker = {
  Number: 0x00,
  Boolean: 0x01,
  String: 0x02,
  Object: 0x03,
  MovieClip: 0x04,
  Null: 0x05,
  Undefined: 0x06,
  Reference: 0x07,
  EcmaArray: 0x08,
  ObjectEnd: 0x09,
  StrictArray: 0x0a,
  Date: 0x0b,
  LongString: 0x0c,
  Unsupported: 0x0d,
  XmlDocument: 0x0f,
  TypedObject: 0x10,
} as const;

/** Decodes consecutive AMF0 values from a buffer (a command's name, transaction id and arguments). */
export function decodeAmf0All(buf: Buffer, start = 0): AmfValue[] {
  const out: AmfValue[] = [];
  const budget = { left: AMF0_MAX_ELEMENTS };
  let offset = start;
  while (offset < buf.length) {
    spend(budget);
    const [v, next] = decodeValue(buf, offset, 0, budget);
    out.push(v);
    offset = next;
  }
  return out;
}

/** Decodes one AMF0 value at offset; returns it and the offset after it. */
export function decodeAmf0(buf: Buffer, offset: number, depth = 0): [AmfValue, number] {
  return decodeValue(buf, offset, depth, { left: AMF0_MAX_ELEMENTS });
}

function need(buf: Buffer, offset: number, n: number): void {
  if (offset + n > buf.length) throw new AmfError('truncated AMF0 value');
}

function spend(budget: { left: number }): void {
  if (--budget.left < 0) throw new AmfError(`more than ${AMF0_MAX_ELEMENTS} AMF0 values in one message`);
}

function readShortString(buf: Buffer, offset: number): [string, number] {
  need(buf, offset, 2);
  const len = buf.readUInt16BE(offset);
  need(buf, offset + 2, len);
  return [buf.toString('utf8', offset + 2, offset + 2 + len), offset + 2 + len];
}

function readProperties(buf: Buffer, offset: number, depth: number, budget: { left: number }, lenientEnd: boolean): [Record<string, AmfValue>, number] {
  // A null-prototype object: keys such as "__proto__" or "constructor" from the wire stay plain data.
  const obj: Record<string, AmfValue> = Object.create(null);
  for (;;) {
    if (offset + 3 <= buf.length && buf[offset] === 0 && buf[offset + 1] === 0 && buf[offset + 2] === Marker.ObjectEnd) return [obj, offset + 3];
    // Some encoders end an ECMA array (onMetaData) at the end of the message without the end marker.
    if (lenientEnd && offset >= buf.length) return [obj, offset];
    spend(budget);
    const [key, afterKey] = readShortString(buf, offset);
    const [value, next] = decodeValue(buf, afterKey, depth + 1, budget);
    obj[key] = value;
    offset = next;
  }
}

function decodeValue(buf: Buffer, offset: number, depth: number, budget: { left: number }): [AmfValue, number] {
  if (depth > AMF0_MAX_DEPTH) throw new AmfError('AMF0 nesting too deep');
  need(buf, offset, 1);
  const marker = buf[offset]!;
  offset++;
  switch (marker) {
    case Marker.Number:
      need(buf, offset, 8);
      return [buf.readDoubleBE(offset), offset + 8];
    case Marker.Boolean:
      need(buf, offset, 1);
      return [buf[offset] !== 0, offset + 1];
    case Marker.String:
      return readShortString(buf, offset);
    case Marker.Object:
      return readProperties(buf, offset, depth, budget, false);
    case Marker.Null:
      return [null, offset];
    case Marker.Undefined:
    case Marker.Unsupported:
      return [undefined, offset];
    case Marker.EcmaArray:
      // The count is advisory (encoders get it wrong); the end marker is what ends the array.
      need(buf, offset, 4);
      return readProperties(buf, offset + 4, depth, budget, true);
    case Marker.StrictArray: {
      need(buf, offset, 4);
      const count = buf.readUInt32BE(offset);
      offset += 4;
      // Each element takes at least one byte: a count beyond the bytes present is a lie, refused before any work.
      if (count > AMF0_MAX_ELEMENTS || count > buf.length - offset) throw new AmfError(`strict array of ${count} elements refused`);
      const arr: AmfValue[] = [];
      for (let i = 0; i < count; i++) {
        spend(budget);
        const [v, next] = decodeValue(buf, offset, depth + 1, budget);
        arr.push(v);
        offset = next;
      }
      return [arr, offset];
    }
    case Marker.Date:
      // 8-byte double (ms since epoch) then a 2-byte time zone that is reserved and ignored.
      need(buf, offset, 10);
      return [new Date(buf.readDoubleBE(offset)), offset + 10];
    case Marker.LongString:
    case Marker.XmlDocument: {
      need(buf, offset, 4);
      const len = buf.readUInt32BE(offset);
      need(buf, offset + 4, len);
      return [buf.toString('utf8', offset + 4, offset + 4 + len), offset + 4 + len];
    }
    case Marker.TypedObject: {
      const [, afterName] = readShortString(buf, offset);
      return readProperties(buf, afterName, depth, budget, false);
    }
    default:
      // MovieClip, Reference, RecordSet and the AMF3 switch are not sent by publishers we support.
      throw new AmfError(`unsupported AMF0 marker 0x${marker.toString(16)}`);
  }
}

/** An AMF0 ECMA array on the wire (onMetaData is one); plain objects encode as AMF0 objects. */
export class AmfEcmaArray {
  constructor(readonly entries: Record<string, AmfValue>) {}
}

/** Encodes values as consecutive AMF0 (for _result, onStatus and friends). */
export function encodeAmf0(...values: Array<AmfValue | AmfEcmaArray>): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) encodeValue(v, parts, 0);
  return Buffer.concat(parts);
}

function encodeString(s: string, parts: Buffer[]): void {
  const body = Buffer.from(s, 'utf8');
  if (body.length > 0xffff) {
    const h = Buffer.alloc(5);
    h[0] = Marker.LongString;
    h.writeUInt32BE(body.length, 1);
    parts.push(h, body);
    return;
  }
  const h = Buffer.alloc(3);
  h[0] = Marker.String;
  h.writeUInt16BE(body.length, 1);
  parts.push(h, body);
}

function encodeKey(k: string, parts: Buffer[]): void {
  const body = Buffer.from(k, 'utf8');
  if (body.length > 0xffff) throw new AmfError('AMF0 property name longer than 65535 bytes');
  const h = Buffer.alloc(2);
  h.writeUInt16BE(body.length);
  parts.push(h, body);
}

function encodeProperties(entries: Record<string, AmfValue>, parts: Buffer[], depth: number): void {
  for (const k of Object.keys(entries)) {
    encodeKey(k, parts);
    encodeValue(entries[k], parts, depth + 1);
  }
  parts.push(Buffer.from([0x00, 0x00, Marker.ObjectEnd]));
}

function encodeValue(v: AmfValue | AmfEcmaArray, parts: Buffer[], depth: number): void {
  if (depth > AMF0_MAX_DEPTH) throw new AmfError('AMF0 nesting too deep');
  if (typeof v === 'number') {
    const b = Buffer.alloc(9);
    b[0] = Marker.Number;
    b.writeDoubleBE(v, 1);
    parts.push(b);
  } else if (typeof v === 'boolean') {
    parts.push(Buffer.from([Marker.Boolean, v ? 1 : 0]));
  } else if (typeof v === 'string') {
    encodeString(v, parts);
  } else if (v === null) {
    parts.push(Buffer.from([Marker.Null]));
  } else if (v === undefined) {
    parts.push(Buffer.from([Marker.Undefined]));
  } else if (v instanceof Date) {
    const b = Buffer.alloc(11);
    b[0] = Marker.Date;
    b.writeDoubleBE(v.getTime(), 1);
    parts.push(b);
  } else if (Array.isArray(v)) {
    const b = Buffer.alloc(5);
    b[0] = Marker.StrictArray;
    b.writeUInt32BE(v.length, 1);
    parts.push(b);
    for (const x of v) encodeValue(x, parts, depth + 1);
  } else if (v instanceof AmfEcmaArray) {
    const b = Buffer.alloc(5);
    b[0] = Marker.EcmaArray;
    b.writeUInt32BE(Object.keys(v.entries).length, 1);
    parts.push(b);
    encodeProperties(v.entries, parts, depth);
  } else {
    parts.push(Buffer.from([Marker.Object]));
    encodeProperties(v, parts, depth);
  }
}
