// Live parts and playlists are answered from memory, so their Range requests are resolved here;
// files on disk go through @fastify/static (src/http/file-response.ts), which cannot serve a Buffer.
/** A single byte range resolved against a body length, or 'unsatisfiable'. */
export type ResolvedRange = { start: number; end: number } | 'unsatisfiable' | undefined;

/**
 * Parses a Range header for one range (bytes=a-b, a-, -n). Multi-range requests are answered with
 * the whole body (allowed by RFC 9110), which is what players and CDNs fall back to anyway.
 */
export function parseRange(header: string | undefined, length: number): ResolvedRange {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const [, a, b] = m;
  let start: number;
  let end: number;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, length - n);
    end = length - 1;
  } else {
    start = Number(a);
    end = b === '' ? length - 1 : Math.min(Number(b), length - 1);
  }
  if (start >= length || start > end) return 'unsatisfiable';
  return { start, end };
}
