// The room fan-out addon (native/room-fanout, built by npm run build) over real loopback TCP
// sockets: every socket gets its bytes (a tail where its offset says so), a full socket takes part
// of a write and then none, a gone peer answers -errno, bad arguments throw, and a FlightGuard keeps
// a destroyed socket's fd open (so its number cannot go to another connection) until the flight lands.
import t from 'tap';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { guardSocket, loadNativeFanout, socketFd } from '../../src/room/native-fanout.js';

const { addon, why } = loadNativeFanout();
if (process.platform === 'linux') t.ok(addon, `the addon loads on Linux (${why})`);
if (!addon) {
  t.end();
} else {
  const fanout = addon;

  /** n connected pairs: the server's side (written to) and the client's (read from). */
  async function pairs(n: number): Promise<{ server: Server; near: Socket[]; far: Socket[] }> {
    const near: Socket[] = [];
    // allowHalfOpen: a peer's end leaves this side open (and its fd ours) until the test closes it.
    const server = createServer({ allowHalfOpen: true }, (s) => near.push(s));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const far: Socket[] = [];
    for (let i = 0; i < n; i += 100) {
      far.push(...await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => new Promise<Socket>((resolve, reject) => {
        const c = connect({ port, host: '127.0.0.1' }, () => resolve(c));
        c.once('error', reject);
      }))));
    }
    for (let i = 0; i < 200 && near.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    // Accepted in connect order is not promised: pair them by port.
    const byPort = new Map(far.map((c) => [c.localPort, c]));
    return { server, near, far: near.map((s) => byPort.get(s.remotePort!)!) };
  }

  function close(p: { server: Server; near: Socket[]; far: Socket[] }): void {
    for (const s of [...p.near, ...p.far]) s.destroy();
    p.server.close();
  }

  /** Reads exactly `bytes` from a socket (or fails after 5 s). */
  function read(s: Socket, bytes: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let got = 0;
      const timer = setTimeout(() => reject(new Error(`read ${got} of ${bytes} bytes in 5 s`)), 5000);
      const onData = (d: Buffer): void => {
        chunks.push(d);
        got += d.length;
        if (got >= bytes) {
          clearTimeout(timer);
          s.off('data', onData);
          resolve(Buffer.concat(chunks));
        }
      };
      s.on('data', onData);
    });
  }

  t.test('1,000 sockets over 4 threads: each gets the whole buffer, or its tail', async (t) => {
    const p = await pairs(1000);
    t.teardown(() => close(p));
    const data = Buffer.from('0123456789'.repeat(30));
    const fds = Int32Array.from(p.near.map((s) => socketFd(s)));
    t.ok(fds.every((fd) => fd >= 0), 'every socket has an fd');
    const offsets = Int32Array.from(p.near.map((_, i) => (i % 3 === 0 ? 0 : i % 300)));
    const out = new Int32Array(fds.length);
    const reads = p.far.map((c, i) => read(c, data.length - offsets[i]!));
    const cpuUs = await fanout.write(fds, offsets, data, out, 4);
    t.ok(cpuUs > 0, `the threads' CPU is counted (${Math.round(cpuUs)} µs)`);
    t.ok(out.every((n, i) => n === data.length - offsets[i]!), 'every send took all its bytes');
    const got = await Promise.all(reads);
    t.equal(got.filter((b, i) => b.equals(data.subarray(offsets[i]!))).length, 1000, 'every socket read exactly its bytes');
  });

  t.test('a socket whose reader stalls takes part of a write, then nothing (0: its buffer is full)', async (t) => {
    const p = await pairs(1);
    t.teardown(() => close(p));
    p.far[0]!.pause();
    const big = Buffer.alloc(32 << 20, 7);
    const fds = Int32Array.of(socketFd(p.near[0]!));
    const out = new Int32Array(1);
    await fanout.write(fds, Int32Array.of(0), big, out, 1);
    t.ok(out[0]! > 0 && out[0]! < big.length, `a short write (${out[0]} of ${big.length} bytes)`);
    // The kernel may grow the buffer a few times (autotuning) before it is full.
    const taken: number[] = [];
    for (let i = 0; i < 50 && out[0]! > 0; i++) {
      await fanout.write(fds, Int32Array.of(0), big, out, 1);
      taken.push(out[0]!);
    }
    t.equal(out[0], 0, `then none: the buffer is full, EAGAIN reads as 0 (later sends took ${taken.join(', ')})`);
  });

  t.test('a peer that is gone answers -errno (EPIPE or ECONNRESET), and nothing throws', async (t) => {
    const p = await pairs(1);
    t.teardown(() => close(p));
    p.far[0]!.destroy();
    await once(p.near[0]!, 'end');
    const fds = Int32Array.of(socketFd(p.near[0]!));
    const out = new Int32Array(1);
    const seen: number[] = [];
    // The first send after the peer's FIN is taken (the peer answers it with a reset); later ones fail.
    for (let i = 0; i < 20 && out[0]! >= 0; i++) {
      await fanout.write(fds, Int32Array.of(0), Buffer.from('x'), out, 1);
      seen.push(out[0]!);
      if (out[0]! >= 0) await new Promise((r) => setTimeout(r, 10));
    }
    t.ok([-32, -104].includes(out[0]!), `a send fails with -EPIPE or -ECONNRESET (sends: ${seen.join(', ')})`);
  });

  t.test('bad arguments throw a TypeError and write nothing', async (t) => {
    const fds = Int32Array.of(1);
    t.throws(() => fanout.write(fds, Int32Array.of(0, 0), Buffer.from('x'), new Int32Array(1), 1), TypeError, 'lengths differ');
    t.throws(() => fanout.write(fds, Int32Array.of(5), Buffer.from('x'), new Int32Array(1), 1), TypeError, 'an offset past the data');
    t.throws(() => fanout.write(fds, Int32Array.of(-1), Buffer.from('x'), new Int32Array(1), 1), TypeError, 'a negative offset');
    t.throws(() => fanout.write([1] as unknown as Int32Array, Int32Array.of(0), Buffer.from('x'), new Int32Array(1), 1), TypeError, 'not a typed array');
    t.throws(() => fanout.write(fds, Int32Array.of(0), 'x' as unknown as Uint8Array, new Int32Array(1), 1), TypeError, 'data not bytes');
  });

  t.test('FlightGuard: a socket destroyed mid-flight keeps its fd (and connection) until land()', async (t) => {
    const p = await pairs(1);
    t.teardown(() => close(p));
    const s = p.near[0]!;
    const guard = guardSocket(s);
    if (!guard) return t.fail('no guard for a TCP socket');
    t.equal(guard.fd, socketFd(s));
    guard.busy = true;
    let closed = false;
    s.once('close', () => { closed = true; });
    s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    t.notOk(closed, 'no close while the flight is out');
    const out = new Int32Array(1);
    const arrived = read(p.far[0]!, 5);
    await fanout.write(Int32Array.of(guard.fd), Int32Array.of(0), Buffer.from('still'), out, 1);
    t.equal(out[0], 5, 'the held fd is still the same connection');
    t.equal((await arrived).toString(), 'still', 'and its peer reads the bytes');
    const ended = once(p.far[0]!, 'end');
    guard.land();
    await once(s, 'close');
    await ended;
    t.pass('land() closes the handle: the socket closes and its peer sees the end');
    t.equal(guardSocket(s), null, 'a destroyed socket has no handle to guard');
  });
}
