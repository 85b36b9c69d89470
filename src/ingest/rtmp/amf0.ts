/**
 * AMF0, the value encoding of RTMP commands and metadata: just the types encoders actually send
 * (number, boolean, string, object, null, undefined, ECMA array, strict array, date, long string).
 * Decoding is bounded (depth, element counts, string sizes) and throws AmfError on malformed input.
 */

export type AmfValue = number | boolean | string | null | undefined | Date | AmfValue[] | { [k: string]: AmfValue };

/** Malformed or over-limit AMF0 input. */
export class AmfError extends Error {
  override name = 'AmfError';
}

const MAX_DEPTH = 16;
const MAX_ELEMENTS = 4096;

/** Decodes consecutive AMF0 values from a buffer (a command's name, transaction id and arguments). */
export function decodeAmf0All(buf: Buffer, start = 0): AmfValue[] {
  const out: AmfValue[] = [];
  let offset = start;
  while (offset < buf.length) {
    if (out.length >= MAX_ELEMENTS) throw new AmfError('too many values');
    const [v, next] = decodeAmf0(buf, offset, 0);
    out.push(v);
    offset = next;
  }
  return out;
}

function need(buf: Buffer, offset: number, n: number): void {
  if (offset + n > buf.length) throw new AmfError('truncated AMF0 value');
}

function readKey(buf: Buffer, offset: number): [string, number] {
  need(buf, offset, 2);
  const len = buf.readUInt16BE(offset);
  need(buf, offset + 2, len);
  return [buf.toString('utf8', offset + 2, offset + 2 + len), offset + 2 + len];
}

function readProperties(buf: Buffer, offset: number, depth: number): [Record<string, AmfValue>, number] {
  const obj: Record<string, AmfValue> = Object.create(null);
  for (let n = 0; ; n++) {
    if (n > MAX_ELEMENTS) throw new AmfError('too many properties');
    // The object-end marker is an empty key followed by 0x09; some encoders end the buffer early.
    if (offset + 3 <= buf.length && buf.readUInt16BE(offset) === 0 && buf[offset + 2] === 0x09) return [obj, offset + 3];
    if (offset >= buf.length) return [obj, offset];
    const [key, afterKey] = readKey(buf, offset);
    const [value, next] = decodeAmf0(buf, afterKey, depth + 1);
    if (key !== '__proto__') obj[key] = value;
    offset = next;
  }
}

/** Decodes one AMF0 value at offset; returns it and the offset after it. */
export function decodeAmf0(buf: Buffer, offset: number, depth = 0): [AmfValue, number] {
  if (depth > MAX_DEPTH) throw new AmfError('AMF0 nesting too deep');
  need(buf, offset, 1);
  const marker = buf[offset]!;
  offset++;
  switch (marker) {
    case 0x00:
      need(buf, offset, 8);
      return [buf.readDoubleBE(offset), offset + 8];
    case 0x01:
      need(buf, offset, 1);
      return [buf[offset] !== 0, offset + 1];
    case 0x02: {
      const [s, next] = readKey(buf, offset);
      return [s, next];
    }
    case 0x03:
      return readProperties(buf, offset, depth);
    case 0x05:
      return [null, offset];
    case 0x06:
      return [undefined, offset];
    case 0x08:
      need(buf, offset, 4);
      return readProperties(buf, offset + 4, depth);
    case 0x0a: {
      need(buf, offset, 4);
      const count = buf.readUInt32BE(offset);
      if (count > MAX_ELEMENTS) throw new AmfError('strict array too long');
      offset += 4;
      const arr: AmfValue[] = [];
      for (let i = 0; i < count; i++) {
        const [v, next] = decodeAmf0(buf, offset, depth + 1);
        arr.push(v);
        offset = next;
      }
      return [arr, offset];
    }
    case 0x0b:
      need(buf, offset, 10);
      return [new Date(buf.readDoubleBE(offset)), offset + 10];
    case 0x0c: {
      need(buf, offset, 4);
      const len = buf.readUInt32BE(offset);
      need(buf, offset + 4, len);
      return [buf.toString('utf8', offset + 4, offset + 4 + len), offset + 4 + len];
    }
    default:
      throw new AmfError(`unsupported AMF0 marker 0x${marker.toString(16)}`);
  }
}

/** Encodes values as consecutive AMF0 (for _result, onStatus and friends). */
export function encodeAmf0(...values: AmfValue[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) encodeValue(v, parts);
  return Buffer.concat(parts);
}

function encodeString(s: string): Buffer {
  const body = Buffer.from(s, 'utf8');
  const b = Buffer.alloc(2);
  b.writeUInt16BE(body.length);
  return Buffer.concat([b, body]);
}

function encodeValue(v: AmfValue, parts: Buffer[]): void {
  if (typeof v === 'number') {
    const b = Buffer.alloc(9);
    b[0] = 0x00;
    b.writeDoubleBE(v, 1);
    parts.push(b);
  } else if (typeof v === 'boolean') {
    parts.push(Buffer.from([0x01, v ? 1 : 0]));
  } else if (typeof v === 'string') {
    parts.push(Buffer.from([0x02]), encodeString(v));
  } else if (v === null) {
    parts.push(Buffer.from([0x05]));
  } else if (v === undefined) {
    parts.push(Buffer.from([0x06]));
  } else if (v instanceof Date) {
    const b = Buffer.alloc(11);
    b[0] = 0x0b;
    b.writeDoubleBE(v.getTime(), 1);
    parts.push(b);
  } else if (Array.isArray(v)) {
    const b = Buffer.alloc(5);
    b[0] = 0x0a;
    b.writeUInt32BE(v.length, 1);
    parts.push(b);
    for (const x of v) encodeValue(x, parts);
  } else {
    parts.push(Buffer.from([0x03]));
    for (const [k, x] of Object.entries(v)) {
      parts.push(encodeString(k));
      encodeValue(x, parts);
    }
    parts.push(Buffer.from([0x00, 0x00, 0x09]));
  }
}
