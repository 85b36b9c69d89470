/**
 * The notify-fanout benchmark's local sinks, in a process of their own (so answering 100,000 push
 * requests costs the measured server nothing): /push/<n> answers 201 like a push service,
 * /hooks/<n> answers 200 like a webhook receiver, GET /stats tells how many came and when the
 * first and last push arrived. Prints its port on stdout. Run by bench/notify-fanout.ts.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const stats = { push: 0, hooks: 0, firstPushAt: 0, lastPushAt: 0, bytes: 0 };
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
    return;
  }
  let n = 0;
  req.on('data', (c: Buffer) => (n += c.length));
  req.on('end', () => {
    stats.bytes += n;
    if (req.url?.startsWith('/push/')) {
      const now = Date.now();
      stats.push++;
      stats.firstPushAt ||= now;
      stats.lastPushAt = now;
      res.writeHead(201).end();
    } else {
      stats.hooks++;
      res.writeHead(200).end();
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
