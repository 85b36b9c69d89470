import type { PromFamily } from './prom-text.js';

/** Options of lintPromFamilies. */
export interface PromLintOptions {
  /** Required name prefix (default 'showcase_'). */
  prefix?: string;
}

// Name tokens that mean a non-base unit (Prometheus wants seconds and bytes).
const NON_BASE_UNITS = new Set([
  'ms', 'millis', 'milliseconds', 'us', 'micros', 'microseconds', 'ns', 'nanoseconds', 'minutes', 'hours', 'days',
  'kb', 'mb', 'gb', 'kib', 'mib', 'gib', 'kilobytes', 'megabytes', 'gigabytes', 'bits', 'kbps', 'mbps',
]);
// Name tokens that mean the value is a duration or point in time, so the name must say seconds.
const TIME_WORDS = new Set(['duration', 'latency', 'lag', 'delay', 'elapsed', 'uptime', 'age', 'timeout', 'time', 'interval', 'wait']);

/**
 * Checks families against the naming rules we hold /metrics to (Prometheus's conventions, and
 * the subset of `promtool check metrics` that matters here): the showcase_ prefix in
 * snake_case, _total on counters and only on counters, base units only (seconds, bytes), a
 * HELP for every family, no reserved label names. Returns one line per problem; empty is clean.
 */
export function lintPromFamilies(families: Iterable<PromFamily>, options: PromLintOptions = {}): string[] {
  const prefix = options.prefix ?? 'showcase_';
  const nameRule = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[a-z0-9_]+$`);
  const problems: string[] = [];
  for (const family of families) {
    const { name, type } = family;
    if (!nameRule.test(name)) problems.push(`${name}: must match ${nameRule.source}`);
    if (type === 'counter' && !name.endsWith('_total')) problems.push(`${name}: a counter's name must end in _total`);
    if (type !== 'counter' && name.endsWith('_total')) problems.push(`${name}: only counters may end in _total`);
    if (type === 'untyped') problems.push(`${name}: no TYPE line`);
    if (!family.help) problems.push(`${name}: no HELP text`);
    const tokens = name.split('_');
    for (const token of tokens) {
      if (NON_BASE_UNITS.has(token)) problems.push(`${name}: "${token}" is not a base unit (use seconds or bytes)`);
    }
    if (tokens.some((t) => TIME_WORDS.has(t)) && !tokens.includes('seconds')) {
      problems.push(`${name}: a duration or time must be in seconds (name it ..._seconds)`);
    }
    for (const sample of family.samples) {
      for (const label of Object.keys(sample.labels)) {
        if (label.startsWith('__')) problems.push(`${name}: label ${label} uses the reserved __ prefix`);
      }
    }
  }
  return [...new Set(problems)];
}
