import { basename, dirname } from 'node:path';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';
import type { FastifyReply } from 'fastify';

/**
 * Files from disk (replay segments and playlists, recording downloads) go out through
 * @fastify/static's `reply.sendFile`: streamed, with Range (206/416), ETag, Last-Modified and
 * If-Range handled by @fastify/send. This plugin only adds that decorator; it serves no route.
 */
export const staticFiles = fp(async (app) => {
  await app.register(fastifyStatic, { serve: false });
}, { name: 'showcase-static-files', fastify: '5.x' });

/** Sends a file from disk with Range support, with our content type; cache-control is the caller's. */
export function sendFile(reply: FastifyReply, file: string, contentType: string): FastifyReply {
  reply.header('content-type', contentType);
  return reply.sendFile(basename(file), dirname(file), { contentType: false, cacheControl: false, acceptRanges: true, etag: true, lastModified: true });
}

/** The content type of an HLS or MP4 file by its name. */
export function mediaContentType(file: string): string {
  return file.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp4';
}
