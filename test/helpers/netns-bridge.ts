import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';

/** Network namespaces of the test's own on one bridge: hosts of a private /24, as a cluster's machines. */
export interface BridgeNet {
  /** The bridge's address in the root namespace (where the test's PostgreSQL and Redis are reached). */
  bridgeAddress: string;
  /** One namespace per host, each with its own address on the bridge. */
  hosts: Array<{ name: string; address: string }>;
  /** Removes the namespaces, their veth pairs and the bridge; idempotent, never throws. */
  remove(): void;
}

/** Runs `ip` with arguments; throws with its stderr when it fails. */
function ip(args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
  return r.stdout;
}

/** A 10.98.x.0/24 no interface on this host uses yet (bounded tries). */
function freeSubnet(): string {
  const used = ip(['-o', '-4', 'addr', 'show']);
  for (let i = 0; i < 20; i++) {
    const x = randomInt(0, 256);
    if (!used.includes(` 10.98.${x}.`)) return `10.98.${x}`;
  }
  throw new Error('no free 10.98.x.0/24 found in 20 tries');
}

/**
 * Creates a bridge in the root namespace (10.98.x.1/24) and `count` namespaces, each joined to it
 * by a veth pair and given 10.98.x.(2+i)/24, loopback up. The root namespace reaches every host
 * over the bridge and the hosts reach each other and the root. Throws (after cleaning up) when the
 * kernel refuses: the caller turns that into a skip (see netnsSkip in ./netns.ts).
 */
export function createBridgeNet(count: number): BridgeNet {
  const tag = randomBytes(3).toString('hex');
  const bridge = `scb${tag}`;
  const net = freeSubnet();
  const hosts = Array.from({ length: count }, (_, i) => ({ name: `showcase-cn-${tag}-${i}`, address: `${net}.${2 + i}`, hostIf: `scv${tag}${i}h`, peerIf: `scv${tag}${i}p` }));
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    for (const h of hosts) {
      spawnSync('ip', ['netns', 'del', h.name], { timeout: 10_000 });
      spawnSync('ip', ['link', 'del', h.hostIf], { timeout: 10_000 });
    }
    spawnSync('ip', ['link', 'del', bridge], { timeout: 10_000 });
  };
  try {
    ip(['link', 'add', bridge, 'type', 'bridge']);
    ip(['addr', 'add', `${net}.1/24`, 'dev', bridge]);
    ip(['link', 'set', bridge, 'up']);
    for (const h of hosts) {
      ip(['netns', 'add', h.name]);
      ip(['link', 'add', h.hostIf, 'type', 'veth', 'peer', 'name', h.peerIf, 'netns', h.name]);
      ip(['link', 'set', h.hostIf, 'master', bridge]);
      ip(['link', 'set', h.hostIf, 'up']);
      ip(['-n', h.name, 'addr', 'add', `${h.address}/24`, 'dev', h.peerIf]);
      ip(['-n', h.name, 'link', 'set', h.peerIf, 'up']);
      ip(['-n', h.name, 'link', 'set', 'lo', 'up']);
    }
  } catch (err) {
    remove();
    throw err;
  }
  return { bridgeAddress: `${net}.1`, hosts: hosts.map(({ name, address }) => ({ name, address })), remove };
}
