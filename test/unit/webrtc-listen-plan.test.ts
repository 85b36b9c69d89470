// What WebRTC transports listen on and announce, from the config and an interface table shaped as
// os.networkInterfaces() returns it (this machine's own NICs are the e2e tests' business).
import t from 'tap';
import type { NetworkInterfaceInfo } from 'node:os';
import { announcedAddressList, interfaceAddresses, logListenPlan, planWebRtcListen, WebRtcListenPlanner, type InterfaceTable } from '../../src/webrtc/listen-plan.js';
import { loadConfig } from '../../src/config/load-config.js';

const nic = (address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo =>
  (family === 'IPv4'
    ? { address, family, internal, netmask: '255.255.255.0', mac: '02:00:00:00:00:01', cidr: `${address}/24` }
    : { address, family, internal, netmask: 'ffff:ffff:ffff:ffff::', mac: '02:00:00:00:00:01', cidr: `${address}/64`, scopeid: 0 });

/** A laptop on Wi-Fi with a docker bridge: loopback, a LAN IPv4, a global and a link-local IPv6. */
const LAPTOP: InterfaceTable = {
  lo: [nic('127.0.0.1', 'IPv4', true), nic('::1', 'IPv6', true)],
  wlan0: [nic('192.168.1.20', 'IPv4'), nic('2001:db8::20', 'IPv6'), nic('fe80::1234', 'IPv6')],
  docker0: [nic('172.17.0.1', 'IPv4')],
};
const LOOPBACK_ONLY: InterfaceTable = { lo: [nic('127.0.0.1', 'IPv4', true), nic('::1', 'IPv6', true)] };

t.test('default listenIp 0.0.0.0: one bound socket per own address, IPv4 first, UDP before TCP', async (t) => {
  t.same(interfaceAddresses(LAPTOP), ['192.168.1.20', '172.17.0.1', '2001:db8::20'], 'non-internal, link-local IPv6 left out');
  const plan = planWebRtcListen({ listenIp: '0.0.0.0', announcedAddress: '', enableTcp: true }, LAPTOP);
  t.equal(plan.source, 'interfaces');
  t.same(plan.announced, ['192.168.1.20', '172.17.0.1', '2001:db8::20']);
  t.same(plan.listenInfos, [
    { protocol: 'udp', ip: '192.168.1.20' }, { protocol: 'udp', ip: '172.17.0.1' }, { protocol: 'udp', ip: '2001:db8::20' },
    { protocol: 'tcp', ip: '192.168.1.20' }, { protocol: 'tcp', ip: '172.17.0.1' }, { protocol: 'tcp', ip: '2001:db8::20' },
  ], 'no 0.0.0.0 anywhere: a candidate is an address a client can send to');
  t.notOk(plan.loopbackOnly);
  t.same(planWebRtcListen({ listenIp: '::', announcedAddress: '', enableTcp: false }, LAPTOP).listenInfos.map((l) => l.ip), ['192.168.1.20', '172.17.0.1', '2001:db8::20'], ':: is a wildcard too; TCP off');
  t.same(planWebRtcListen({ listenIp: '0.0.0.0', announcedAddress: '', enableTcp: false, rtcMinPort: 40000, rtcMaxPort: 40999 }, LAPTOP).listenInfos[0],
    { protocol: 'udp', ip: '192.168.1.20', portRange: { min: 40000, max: 40999 } }, 'the ICE port range on each entry');
});

t.test('a host with only loopback announces 127.0.0.1 and says phones cannot connect', async (t) => {
  const plan = planWebRtcListen({ listenIp: '0.0.0.0', announcedAddress: '', enableTcp: false }, LOOPBACK_ONLY);
  t.same(plan.listenInfos, [{ protocol: 'udp', ip: '127.0.0.1' }]);
  t.ok(plan.loopbackOnly);
  const lines: Array<[string, Record<string, unknown>, string]> = [];
  logListenPlan(plan, { info: (o: object, m: string) => lines.push(['info', o as Record<string, unknown>, m]), warn: (o: object, m: string) => lines.push(['warn', o as Record<string, unknown>, m]) } as never);
  t.same(lines.map((l) => l[0]), ['info', 'warn']);
  t.same(lines[0]![1].announced, ['127.0.0.1'], 'start-up says what is announced');
  t.equal(lines[1]![1].code, 'SHOWCASE_ERR_WEBRTC_LOOPBACK_ONLY');
  const ok: string[] = [];
  logListenPlan(planWebRtcListen({ listenIp: '0.0.0.0', announcedAddress: '', enableTcp: false }, LAPTOP), { info: () => ok.push('info'), warn: () => ok.push('warn') } as never);
  t.same(ok, ['info'], 'no warning when a reachable address is announced');
  t.ok(planWebRtcListen({ listenIp: '127.0.0.1', announcedAddress: '', enableTcp: false }, LAPTOP).loopbackOnly, 'listenIp 127.0.0.1 is loopback only too');
});

t.test('a specific listenIp is bound and announced as before', async (t) => {
  const plan = planWebRtcListen({ listenIp: '192.168.1.20', announcedAddress: '', enableTcp: true }, LAPTOP);
  t.equal(plan.source, 'listenIp');
  t.same(plan.listenInfos, [{ protocol: 'udp', ip: '192.168.1.20' }, { protocol: 'tcp', ip: '192.168.1.20' }]);
});

t.test('announcedAddress: one or several, names allowed, each its own socket on listenIp', async (t) => {
  t.same(announcedAddressList(' 203.0.113.7 , live.example.com,203.0.113.7,'), ['203.0.113.7', 'live.example.com'], 'comma-separated, trimmed, deduplicated');
  t.same(announcedAddressList(['a.example', 'b.example']), ['a.example', 'b.example']);
  const plan = planWebRtcListen({ listenIp: '0.0.0.0', announcedAddress: ['203.0.113.7', 'live.example.com', '2001:db8::7'], enableTcp: true }, LAPTOP);
  t.equal(plan.source, 'config');
  t.same(plan.announced, ['203.0.113.7', 'live.example.com', '2001:db8::7']);
  t.same(plan.listenInfos.slice(0, 3), [
    { protocol: 'udp', ip: '0.0.0.0', announcedAddress: '203.0.113.7' },
    { protocol: 'udp', ip: '0.0.0.0', announcedAddress: 'live.example.com' },
    { protocol: 'udp', ip: '::', announcedAddress: '2001:db8::7' },
  ], 'an IPv6 literal behind 0.0.0.0 listens on ::');
  t.equal(plan.listenInfos.length, 6);
  t.notOk(plan.loopbackOnly);
  t.ok(planWebRtcListen({ listenIp: '0.0.0.0', announcedAddress: 'localhost', enableTcp: false }, LAPTOP).loopbackOnly);
});

t.test('config: announcedAddress accepts a string or a list, the environment too, and rejects junk', async (t) => {
  t.equal(loadConfig({ env: {} }).webrtc.announcedAddress, '', 'default: none (own interfaces)');
  t.equal(loadConfig({ env: {} }).webrtc.listenIp, '0.0.0.0');
  t.equal(loadConfig({ env: {}, file: new URL('../../config/showcase.example.yaml', import.meta.url).pathname }).webrtc.listenIp, '0.0.0.0', 'the example config loads');
  t.same(loadConfig({ env: {}, overrides: { webrtc: { announcedAddress: ['203.0.113.7', 'live.example.com'] } } }).webrtc.announcedAddress, ['203.0.113.7', 'live.example.com']);
  t.equal(loadConfig({ env: { SHOWCASE_WEBRTC_ANNOUNCED_ADDRESS: '203.0.113.7,live.example.com' } }).webrtc.announcedAddress, '203.0.113.7,live.example.com');
  for (const bad of [['has space.example'], 'x;rm -rf', Array.from({ length: 17 }, (_, i) => `h${i}.example`), Array.from({ length: 17 }, (_, i) => `h${i}.example`).join(',')]) {
    t.throws(() => loadConfig({ env: {}, overrides: { webrtc: { announcedAddress: bad } } }), { name: 'ShowcaseError', code: 'SHOWCASE_ERR_CONFIG_INVALID' }, `rejected: ${JSON.stringify(bad).slice(0, 40)}`);
  }
  t.throws(() => loadConfig({ env: {}, overrides: { webrtc: { listenIp: 'eth0' } } }), { name: 'ShowcaseError', code: 'SHOWCASE_ERR_CONFIG_INVALID' }, 'listenIp must be an IP');
});

t.test('the planner follows the interfaces for new transports and logs a change', async (t) => {
  let table: InterfaceTable = LAPTOP;
  const logged: Array<{ level: string; announced: unknown }> = [];
  const log = { info: (o: { announced: unknown }) => logged.push({ level: 'info', announced: o.announced }), warn: (o: { announced: unknown }) => logged.push({ level: 'warn', announced: o.announced }) };
  const planner = new WebRtcListenPlanner({ listenIp: '0.0.0.0', announcedAddress: '', enableTcp: false }, log as never, { table: () => table, refreshMs: 0 });
  t.same(logged, [{ level: 'info', announced: ['192.168.1.20', '172.17.0.1', '2001:db8::20'] }], 'start-up logs the plan');
  t.same(planner.listenInfos().map((l) => l.ip), ['192.168.1.20', '172.17.0.1', '2001:db8::20']);
  t.equal(logged.length, 1, 'unchanged: nothing more logged');
  table = { ...LAPTOP, wlan0: [nic('10.0.0.7', 'IPv4')] };
  t.same(planner.listenInfos().map((l) => l.ip), ['10.0.0.7', '172.17.0.1'], 'a new DHCP lease is used for the next transport');
  t.same(logged.at(-1), { level: 'info', announced: ['10.0.0.7', '172.17.0.1'] }, 'and logged');
  table = LOOPBACK_ONLY;
  t.same(planner.listenInfos().map((l) => l.ip), ['127.0.0.1']);
  t.equal(logged.at(-1)?.level, 'warn', 'losing every address warns (loopback only)');
  const slow = new WebRtcListenPlanner({ listenIp: '0.0.0.0', announcedAddress: '', enableTcp: false }, log as never, { table: () => table, refreshMs: 60_000 });
  table = LAPTOP;
  t.same(slow.listenInfos().map((l) => l.ip), ['127.0.0.1'], 'within refreshMs the last read stands');
  const fixed = new WebRtcListenPlanner({ listenIp: '0.0.0.0', announcedAddress: '203.0.113.7', enableTcp: false }, log as never, { table: () => { throw new Error('not read'); }, refreshMs: 0 });
  t.same(fixed.listenInfos(), [{ protocol: 'udp', ip: '0.0.0.0', announcedAddress: '203.0.113.7' }], 'configured addresses: the interfaces are never read');
});
