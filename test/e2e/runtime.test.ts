import t from 'tap';
import { readFileSync } from 'node:fs';
import { startServer, getText, ADMIN } from '../helpers/server.js';

// The runtime the server (and this suite) runs on is a maintained Node: 22 or newer, the one
// scripts/runtime.sh chose. /metrics and the start-up log say which it is.
const major = Number(process.versions.node.split('.')[0]);

t.test('the suite runs on Node >= 22, as package.json engines require', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  t.equal(pkg.engines.node, '>=22');
  t.ok(major >= 22, `Node ${process.version}`);
});

t.test('start-up log and /metrics report the Node version', async (t) => {
  const srv = await startServer();
  t.teardown(() => srv.close());
  const listening = srv.logs.find((l) => l.msg === 'showcase listening');
  t.equal(listening?.node, process.version, 'the start-up log names the Node version');
  const m = await getText(`${srv.base}/metrics`, { authorization: `Bearer ${ADMIN}` });
  t.equal(m.status, 200);
  const line = m.text.split('\n').find((l) => l.startsWith('showcase_nodejs_version_info{'));
  t.ok(line, 'prom-client version-info series present');
  t.match(line!, new RegExp(`major="${major}"`), `major="${major}"`);
  t.match(line!, `version="${process.version}"`);
});
