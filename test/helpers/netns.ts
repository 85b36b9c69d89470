import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';

/** A network namespace of the test's own, joined to the root namespace by a veth pair on a /30. */
export interface TestNetns {
  /** The namespace's name (run commands in it with ['ip', 'netns', 'exec', name, ...]). */
  name: string;
  /** The root-namespace end's address (the "server" side of the link). */
  hostAddress: string;
  /** The namespace end's address (the "phone"). */
  peerAddress: string;
  /** Removes the namespace and both veth ends; idempotent, never throws. */
  remove(): void;
}

/** Runs `ip` with arguments; throws with its stderr when it fails. */
function ip(args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
  return r.stdout;
}

/** Why this machine cannot create a test namespace (not root, no iproute2), or false when it may. */
export function netnsSkip(): string | false {
  if (process.getuid?.() !== 0) return 'needs root to create a network namespace (ip netns add)';
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return `no ip netns support (apt-get install iproute2): ${(r.stderr || r.error?.message || '').trim()}`;
  return false;
}

/** A /30 in 10.99.0.0/16 that no interface on this host uses yet (bounded tries). */
function freeSubnet(): { host: string; peer: string } {
  const used = ip(['-o', '-4', 'addr', 'show']);
  for (let i = 0; i < 20; i++) {
    const x = randomInt(0, 256);
    const y = randomInt(0, 64) * 4;
    if (!used.includes(` 10.99.${x}.`)) return { host: `10.99.${x}.${y + 1}`, peer: `10.99.${x}.${y + 2}` };
  }
  throw new Error('no free 10.99.x.y/30 found in 20 tries');
}

/**
 * Creates a namespace with one veth end inside (its loopback left down: no shortcut) and the other
 * in the root namespace, each with an address of a fresh /30. Throws (after cleaning up) when the
 * kernel refuses: the caller turns that into a skip.
 */
export function createTestNetns(): TestNetns {
  const tag = randomBytes(3).toString('hex');
  const name = `showcase-wn-${tag}`;
  const hostIf = `scw${tag}h`;
  const peerIf = `scw${tag}p`;
  const { host, peer } = freeSubnet();
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    // Deleting the namespace deletes its veth end, and with it the root end; the second call is for
    // a half-made setup where the root end never moved its peer in.
    spawnSync('ip', ['netns', 'del', name], { timeout: 10_000 });
    spawnSync('ip', ['link', 'del', hostIf], { timeout: 10_000 });
  };
  try {
    ip(['netns', 'add', name]);
    ip(['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', peerIf, 'netns', name]);
    ip(['addr', 'add', `${host}/30`, 'dev', hostIf]);
    ip(['link', 'set', hostIf, 'up']);
    ip(['-n', name, 'addr', 'add', `${peer}/30`, 'dev', peerIf]);
    ip(['-n', name, 'link', 'set', peerIf, 'up']);
  } catch (err) {
    remove();
    throw err;
  }
  return { name, hostAddress: host, peerAddress: peer, remove };
}
