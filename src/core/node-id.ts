import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from './logger.js';

const NODE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * This node's id in stream leases: the configured one, else the one kept in <dataDir>/node-id,
 * else a new one written there. Kept across restarts so a restarted node recognizes its own leases
 * (and may sweep them) while never mistaking another node's for its own.
 */
export function resolveNodeId(configured: string, dataDir: string, log?: Logger): string {
  if (configured) return configured;
  const file = join(dataDir, 'node-id');
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (NODE_ID.test(kept)) return kept;
    log?.warn({ file }, 'node-id file holds no valid id: generating a new one');
  }
  const id = `node-${randomBytes(9).toString('base64url')}`;
  writeFileSync(file, `${id}\n`, { mode: 0o644 });
  log?.info({ file, nodeId: id }, 'generated this node\'s id and kept it in the data dir (set SHOWCASE_NODE_ID to choose one)');
  return id;
}
