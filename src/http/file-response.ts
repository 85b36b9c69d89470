import { createReadStream, statSync } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseRange } from './range.js';

/** Sends a file from disk with Range support (206/416), streaming rather than buffering it. */
export function sendFile(req: FastifyRequest, reply: FastifyReply, file: string, contentType: string): FastifyReply {
  const size = statSync(file).size;
  reply.header('content-type', contentType);
  reply.header('accept-ranges', 'bytes');
  const range = parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    reply.header('content-range', `bytes */${size}`);
    return reply.status(416).send();
  }
  if (range) {
    reply.header('content-range', `bytes ${range.start}-${range.end}/${size}`);
    reply.header('content-length', String(range.end - range.start + 1));
    return reply.status(206).send(createReadStream(file, { start: range.start, end: range.end }));
  }
  reply.header('content-length', String(size));
  return reply.send(createReadStream(file));
}

/** The content type of an HLS or MP4 file by its name. */
export function mediaContentType(file: string): string {
  return file.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp4';
}
