// Issue 13, bad input: 10,000 highlight calls at once on one stream are bounded: a burst of
// commerce.highlightsPerSecond, then coded 429s with retry-after; memory stays flat.
import t from 'tap';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startServer, ADMIN, logsOnFailure } from '../helpers/server.js';

// The heap after a full collection is what the server holds; rss also counts the client's sockets
// and the allocator's free pages.
v8.setFlagsFromString('--expose_gc');
const gc = vm.runInNewContext('gc') as () => void;
const heldBytes = (): number => {
  gc();
  return process.memoryUsage().heapUsed;
};

t.test('a highlight flood is refused with coded 429s and holds no memory', async (t) => {
  const srv = await startServer();
  t.teardown(() => srv.close());
  logsOnFailure(t, srv);
  const { id } = await srv.createStream('flood');
  const url = `${srv.base}/v1/streams/${id}/highlights`;
  const body = JSON.stringify({ productId: 'pr_x' });
  const call = async (): Promise<{ status: number; code?: string; retryAfter: string | null }> => {
    const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body });
    const json = (await res.json()) as { error?: { code: string } };
    return { status: res.status, code: json.error?.code, retryAfter: res.headers.get('retry-after') };
  };
  // Warm-up: the route's schemas compile, the client's connection pool and the JIT settle, so what
  // grows afterwards is what the flood leaves behind.
  let next = 0;
  const burst = async (n: number, each: (r: Awaited<ReturnType<typeof call>>) => void): Promise<void> => {
    next = 0;
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next < n) {
        next++;
        each(await call());
      }
    }));
  };
  await burst(1000, () => {});
  await new Promise((r) => setTimeout(r, 1100)); // the bucket refills
  // Two floods of 10,000: what the first leaves (allocator pages, the client's pools, lazily
  // compiled code) is a one-time cost; memory is flat when the second adds (almost) nothing. A leak
  // of 300 bytes a call would add 3 MB.
  const heapBefore = heldBytes();
  const flood = async (): Promise<void> => {
    const started = Date.now();
    const counts = new Map<string, number>();
    // 10,000 calls, 64 in flight at once (one process cannot open 10,000 sockets in a second).
    await burst(10_000, (r) => {
      const k = `${r.status} ${r.code ?? ''}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
      if (r.status === 429 && r.retryAfter !== '1') t.fail('a 429 without retry-after: 1');
    });
    const seconds = (Date.now() - started) / 1000;
    const limited = counts.get('429 SHOWCASE_ERR_COMMERCE_HIGHLIGHT_RATE') ?? 0;
    const passed = counts.get('409 SHOWCASE_ERR_COMMERCE_NOT_LIVE') ?? 0;
    t.comment(`10,000 calls in ${seconds.toFixed(2)} s: ${JSON.stringify(Object.fromEntries(counts))}`);
    t.equal(limited + passed, 10_000, 'every call is either rate limited or reaches the live check (not live: 409)');
    // The default 5 a second, as a burst of 5 then a refill of 5/s.
    t.ok(passed <= 5 + Math.ceil(seconds * 5) + 1, `${passed} calls passed the limiter in ${seconds.toFixed(2)} s`);
  };
  await flood();
  const heapMid = heldBytes();
  await new Promise((r) => setTimeout(r, 1100)); // the bucket refills
  await flood();
  const heapAfter = heldBytes();
  const firstMb = (heapMid - heapBefore) / 1024 / 1024;
  const secondMb = (heapAfter - heapMid) / 1024 / 1024;
  t.comment(`heap after a collection: +${firstMb.toFixed(2)} MB over the first flood, +${secondMb.toFixed(2)} MB over the second`);
  t.ok(secondMb < 3, `memory is flat: the second flood of 10,000 left ${secondMb.toFixed(2)} MB (first: ${firstMb.toFixed(2)} MB)`);
  t.same((await srv.api('GET', `/v1/streams/${id}/highlights`, undefined, null)).json.items, [], 'nothing stored');
});
