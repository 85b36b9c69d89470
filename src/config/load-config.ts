import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema, type Config } from './schema.js';
import { ShowcaseError } from '../core/errors.js';

/** Deep partial of the config: what files, env and tests may override. */
export type ConfigOverrides = { [K in keyof Config]?: Config[K] extends object ? (Config[K] extends unknown[] ? Config[K] : Partial<Config[K]>) : Config[K] };

/** Environment variables the server reads, mapped to config paths. */
const ENV_MAP: Array<[string, string[], 'int' | 'string' | 'json']> = [
  ['SHOWCASE_HTTP_PORT', ['http', 'port'], 'int'],
  ['SHOWCASE_HTTP_HOST', ['http', 'host'], 'string'],
  ['SHOWCASE_RTMP_PORT', ['rtmp', 'port'], 'int'],
  ['SHOWCASE_RTMP_HOST', ['rtmp', 'host'], 'string'],
  ['SHOWCASE_DATA_DIR', ['dataDir'], 'string'],
  ['SHOWCASE_ADMIN_TOKEN', ['adminToken'], 'string'],
  ['SHOWCASE_LOG_LEVEL', ['logLevel'], 'string'],
  ['SHOWCASE_PUBLIC_BASE_URL', ['publicBaseUrl'], 'string'],
  ['SHOWCASE_FFMPEG_PATH', ['transcode', 'ffmpegPath'], 'string'],
  ['SHOWCASE_WEBRTC_ANNOUNCED_ADDRESS', ['webrtc', 'announcedAddress'], 'string'],
  ['SHOWCASE_STORE_URL', ['store', 'url'], 'string'],
  ['SHOWCASE_NODE_ID', ['node', 'id'], 'string'],
  ['SHOWCASE_NODE_URL', ['node', 'url'], 'string'],
  ['SHOWCASE_REDIS_URL', ['cluster', 'redisUrl'], 'string'],
  ['SHOWCASE_CLUSTER_SECRET', ['cluster', 'secret'], 'string'],
  // A list cannot be spelled as one plain string, so the endpoints come as JSON; the schema validates the rest.
  ['SHOWCASE_WEBHOOK_ENDPOINTS', ['webhooks', 'endpoints'], 'json'],
];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Merges b into a (objects deeply, arrays and scalars replaced). */
function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined) continue;
    out[k] = isObject(v) && isObject(out[k]) ? merge(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Reads a YAML or JSON config file. */
function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ShowcaseError('SHOWCASE_ERR_CONFIG_INVALID', `cannot read config file ${file}: ${(err as Error).message}`);
  }
  const parsed: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  if (parsed == null) return {};
  if (!isObject(parsed)) throw new ShowcaseError('SHOWCASE_ERR_CONFIG_INVALID', `config file ${file} must hold an object`);
  return parsed;
}

/** Applies SHOWCASE_* environment variables on top of a raw config object. */
function envOverrides(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, path, kind] of ENV_MAP) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    if (kind === 'int') {
      if (!/^\d+$/.test(raw)) throw new ShowcaseError('SHOWCASE_ERR_CONFIG_INVALID', `${name} must be an integer, got "${raw}"`);
      value = Number(raw);
    } else if (kind === 'json') {
      try {
        value = JSON.parse(raw);
      } catch (err) {
        throw new ShowcaseError('SHOWCASE_ERR_CONFIG_INVALID', `${name} must be JSON: ${(err as Error).message}`);
      }
    }
    let cursor = out;
    for (const key of path.slice(0, -1)) cursor = (cursor[key] ??= {}) as Record<string, unknown>;
    cursor[path[path.length - 1]!] = value;
  }
  return out;
}

/**
 * Builds the frozen config: defaults -> file (SHOWCASE_CONFIG or opts.file) -> env -> overrides -> validate.
 * Throws SHOWCASE_ERR_CONFIG_INVALID listing every invalid field.
 */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; overrides?: ConfigOverrides } = {}): Readonly<Config> {
  const env = opts.env ?? process.env;
  let raw: Record<string, unknown> = {};
  const file = opts.file ?? env.SHOWCASE_CONFIG;
  if (file) raw = merge(raw, readConfigFile(file));
  raw = merge(raw, envOverrides(env));
  if (opts.overrides) raw = merge(raw, opts.overrides as Record<string, unknown>);
  const withDefaults = Value.Default(ConfigSchema, Value.Clone(raw)) as Record<string, unknown>;
  const errors = [...Value.Errors(ConfigSchema, withDefaults)];
  if (errors.length > 0) {
    const fields = errors.slice(0, 20).map((e) => `${e.path || '/'}: ${e.message}`);
    throw new ShowcaseError('SHOWCASE_ERR_CONFIG_INVALID', `invalid configuration: ${fields.join('; ')}`, { fields });
  }
  const config = withDefaults as Config;
  if (config.hls.partSeconds * 2 > config.hls.segmentSeconds) {
    throw new ShowcaseError('SHOWCASE_ERR_CONFIG_INVALID', 'hls.partSeconds must be at most half of hls.segmentSeconds');
  }
  const names = new Set(config.transcode.ladder.map((r) => r.name));
  if (names.size !== config.transcode.ladder.length) {
    throw new ShowcaseError('SHOWCASE_ERR_CONFIG_INVALID', 'transcode.ladder rendition names must be unique');
  }
  const announced = config.webrtc.announcedAddress;
  if (typeof announced === 'string' && announced.split(',').length > 16) {
    throw new ShowcaseError('SHOWCASE_ERR_CONFIG_INVALID', 'webrtc.announcedAddress holds at most 16 addresses');
  }
  if (config.cluster.redisUrl && !config.node.url) {
    throw new ShowcaseError('SHOWCASE_ERR_CONFIG_INVALID', 'cluster.redisUrl (SHOWCASE_REDIS_URL) needs node.url (SHOWCASE_NODE_URL): the address other nodes reach this one on');
  }
  return deepFreeze(config);
}
