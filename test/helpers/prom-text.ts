/**
 * A strict parser for the Prometheus text exposition format 0.0.4, for tests only: the server
 * serves prom-client's own output. Hand-written because no maintained JavaScript parser of the
 * format exists among the npm packages the project uses (prom-client only writes it); it rejects
 * what Prometheus would reject (bad names, broken escapes, unordered or duplicate series) rather
 * than guessing. The suite also runs Debian's promtool over the same text.
 */

/** A metric family's declared type. */
export type PromMetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

/** One sample line. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

/** A family: the TYPE/HELP lines of a name and every sample belonging to it. */
export interface PromFamily {
  name: string;
  type: PromMetricType;
  help: string | undefined;
  samples: PromSample[];
}

/** A line that does not follow the format (1-based line number). */
export class PromParseError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'PromParseError';
    this.line = line;
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const FULL_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set<PromMetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** Families that had a TYPE line (PromFamily keeps a plain shape for callers). */
const typedFamilies = new WeakSet<PromFamily>();

/** Parses a text exposition into families keyed by name, in the order they appear; throws PromParseError. */
export function parsePromText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  const seriesSeen = new Set<string>();
  let current: PromFamily | undefined;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.trim();
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^#\s*(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, keyword, name, rest = ''] = m;
      if (!FULL_METRIC_NAME.test(name!)) throw new PromParseError(lineNo, `bad metric name ${name}`);
      let family = families.get(name!);
      if (family && family !== current) throw new PromParseError(lineNo, `${name} appears in two places`);
      if (!family) {
        family = { name: name!, type: 'untyped', help: undefined, samples: [] };
        families.set(name!, family);
        current = family;
      }
      if (keyword === 'HELP') {
        if (family.help !== undefined) throw new PromParseError(lineNo, `second HELP for ${name}`);
        family.help = unescapeHelp(rest, lineNo);
      } else {
        if (family.samples.length > 0) throw new PromParseError(lineNo, `TYPE for ${name} after its samples`);
        if (typedFamilies.has(family)) throw new PromParseError(lineNo, `second TYPE for ${name}`);
        if (!TYPES.has(rest as PromMetricType)) throw new PromParseError(lineNo, `unknown type ${rest}`);
        family.type = rest as PromMetricType;
        typedFamilies.add(family);
      }
      return;
    }
    const sample = parseSample(line, lineNo);
    let family = current && belongsTo(sample, current) ? current : undefined;
    if (!family) {
      if (families.has(sample.name)) throw new PromParseError(lineNo, `${sample.name} appears in two places`);
      family = { name: sample.name, type: 'untyped', help: undefined, samples: [] };
      families.set(sample.name, family);
      current = family;
    }
    const key = `${sample.name}{${Object.keys(sample.labels).sort().map((k) => `${k}=${JSON.stringify(sample.labels[k])}`).join(',')}}`;
    if (seriesSeen.has(key)) throw new PromParseError(lineNo, `duplicate series ${key}`);
    seriesSeen.add(key);
    if (family.type === 'histogram' && sample.name === `${family.name}_bucket` && !('le' in sample.labels)) {
      throw new PromParseError(lineNo, `${sample.name} without an le label`);
    }
    family.samples.push(sample);
  });
  return families;
}

/** Whether a sample is part of a family (histograms and summaries add _bucket, _sum, _count). */
function belongsTo(sample: PromSample, family: PromFamily): boolean {
  if (sample.name === family.name) return family.type !== 'histogram';
  if (family.type === 'histogram') return [`${family.name}_bucket`, `${family.name}_sum`, `${family.name}_count`].includes(sample.name);
  if (family.type === 'summary') return [`${family.name}_sum`, `${family.name}_count`].includes(sample.name);
  return false;
}

function parseSample(line: string, lineNo: number): PromSample {
  const nameMatch = METRIC_NAME.exec(line);
  if (!nameMatch) throw new PromParseError(lineNo, 'expected a metric name');
  const name = nameMatch[0];
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === '{') {
    pos++;
    for (;;) {
      pos = skipSpaces(line, pos);
      if (line[pos] === '}') {
        pos++;
        break;
      }
      const labelMatch = LABEL_NAME.exec(line.slice(pos));
      if (!labelMatch) throw new PromParseError(lineNo, `bad label name at column ${pos + 1}`);
      const labelName = labelMatch[0];
      if (labelName in labels) throw new PromParseError(lineNo, `label ${labelName} given twice`);
      pos = skipSpaces(line, pos + labelName.length);
      if (line[pos] !== '=') throw new PromParseError(lineNo, `expected = after ${labelName}`);
      pos = skipSpaces(line, pos + 1);
      if (line[pos] !== '"') throw new PromParseError(lineNo, `expected " for ${labelName}'s value`);
      const [value, end] = readLabelValue(line, pos + 1, lineNo);
      labels[labelName] = value;
      pos = skipSpaces(line, end);
      if (line[pos] === ',') pos++;
      else if (line[pos] !== '}') throw new PromParseError(lineNo, `expected , or } after ${labelName}'s value`);
    }
  }
  const rest = line.slice(pos);
  if (!/^[ \t]/.test(rest)) throw new PromParseError(lineNo, 'expected whitespace before the value');
  const fields = rest.trim().split(/[ \t]+/);
  if (fields.length < 1 || fields.length > 2) throw new PromParseError(lineNo, 'expected a value and an optional timestamp');
  const value = parseValue(fields[0]!);
  if (value === undefined) throw new PromParseError(lineNo, `bad value ${fields[0]}`);
  const sample: PromSample = { name, labels, value };
  if (fields.length === 2) {
    if (!/^-?\d+$/.test(fields[1]!)) throw new PromParseError(lineNo, `bad timestamp ${fields[1]}`);
    sample.timestampMs = Number(fields[1]);
  }
  return sample;
}

function skipSpaces(line: string, pos: number): number {
  while (line[pos] === ' ' || line[pos] === '\t') pos++;
  return pos;
}

/** Reads an escaped label value from just after its opening quote; returns it and the index after the closing quote. */
function readLabelValue(line: string, pos: number, lineNo: number): [string, number] {
  let out = '';
  for (;;) {
    const ch = line[pos];
    if (ch === undefined) throw new PromParseError(lineNo, 'unterminated label value');
    if (ch === '"') return [out, pos + 1];
    if (ch === '\\') {
      const next = line[pos + 1];
      if (next === '\\') out += '\\';
      else if (next === '"') out += '"';
      else if (next === 'n') out += '\n';
      else throw new PromParseError(lineNo, `bad escape \\${next ?? ''} in a label value`);
      pos += 2;
    } else {
      out += ch;
      pos++;
    }
  }
}

function unescapeHelp(text: string, lineNo: number): string {
  return text.replace(/\\(.?)/g, (_, next: string) => {
    if (next === '\\') return '\\';
    if (next === 'n') return '\n';
    throw new PromParseError(lineNo, `bad escape \\${next} in HELP`);
  });
}

/** Sample values as Prometheus writes them: decimal floats, and NaN / ±Inf in any case (prom-client writes "Nan"). */
function parseValue(text: string): number | undefined {
  const lower = text.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return undefined;
  return Number(text);
}
