import t from 'tap';
import { parsePromText, PromParseError } from '../helpers/prom-text.js';
import { lintPromFamilies } from '../helpers/prom-lint.js';

const GOOD = `# HELP showcase_things_total Things, with a \\\\ and a \\n in the help.
# TYPE showcase_things_total counter
showcase_things_total{stream="a\\"b",kind="x\\\\y\\nz"} 3
showcase_things_total{stream="c",kind=""} 1.5e3 1700000000000
# just a comment
# HELP showcase_lag_seconds Lag.
# TYPE showcase_lag_seconds gauge
showcase_lag_seconds NaN
# HELP showcase_tick_duration_seconds Tick time.
# TYPE showcase_tick_duration_seconds histogram
showcase_tick_duration_seconds_bucket{le="0.001"} 1
showcase_tick_duration_seconds_bucket{le="+Inf"} 2
showcase_tick_duration_seconds_sum 0.0042
showcase_tick_duration_seconds_count 2
untyped_thing -Inf
`;

t.test('parses families, escapes, special values and timestamps', async (t) => {
  const families = parsePromText(GOOD);
  t.same([...families.keys()], ['showcase_things_total', 'showcase_lag_seconds', 'showcase_tick_duration_seconds', 'untyped_thing']);
  const things = families.get('showcase_things_total')!;
  t.equal(things.type, 'counter');
  t.equal(things.help, 'Things, with a \\ and a \n in the help.');
  t.same(things.samples[0], { name: 'showcase_things_total', labels: { stream: 'a"b', kind: 'x\\y\nz' }, value: 3 });
  t.same(things.samples[1], { name: 'showcase_things_total', labels: { stream: 'c', kind: '' }, value: 1500, timestampMs: 1_700_000_000_000 });
  t.ok(Number.isNaN(families.get('showcase_lag_seconds')!.samples[0]!.value));
  t.same(families.get('showcase_tick_duration_seconds')!.samples.map((s) => s.name), [
    'showcase_tick_duration_seconds_bucket', 'showcase_tick_duration_seconds_bucket',
    'showcase_tick_duration_seconds_sum', 'showcase_tick_duration_seconds_count',
  ]);
  t.equal(families.get('untyped_thing')!.samples[0]!.value, -Infinity);
});

t.test('rejects what Prometheus rejects, with the line number', async (t) => {
  const bad: [string, RegExp][] = [
    ['a_total{x="1"} 1\na_total{x="1"} 2\n', /line 2: duplicate series/],
    ['a 1\n# TYPE a gauge\n', /line 2: TYPE for a after its samples/],
    ['# TYPE a gauge\n# TYPE a counter\n', /second TYPE/],
    ['# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x="2"} 1\n', /line 5: a appears in two places/],
    ['a{x="\\q"} 1\n', /bad escape/],
    ['a{x="open} 1\n', /unterminated/],
    ['a{x="1" y="2"} 1\n', /expected , or }/],
    ['a{x="1",x="2"} 1\n', /given twice/],
    ['a{1x="1"} 1\n', /bad label name/],
    ['a one\n', /bad value/],
    ['a 1 2 3\n', /expected a value/],
    ['a 1 1.5\n', /bad timestamp/],
    ['a\n', /expected whitespace/],
    ['# TYPE a flavour\n', /unknown type/],
    ['# TYPE a histogram\na_bucket 1\n', /without an le label/],
    ['{x="1"} 1\n', /expected a metric name/],
  ];
  for (const [text, message] of bad) t.throws(() => parsePromText(text), message, JSON.stringify(text));
  t.throws(() => parsePromText('a one\n'), PromParseError);
});

t.test('the lint flags naming problems', async (t) => {
  const text = [
    '# HELP showcase_ok_total Fine.', '# TYPE showcase_ok_total counter', 'showcase_ok_total 1',
    '# HELP showcase_requests Counter without _total.', '# TYPE showcase_requests counter', 'showcase_requests 1',
    '# HELP showcase_open_total Gauge with _total.', '# TYPE showcase_open_total gauge', 'showcase_open_total 1',
    '# HELP showcase_latency_ms Milliseconds.', '# TYPE showcase_latency_ms gauge', 'showcase_latency_ms 1',
    '# HELP showcase_tick_duration Unit-less duration.', '# TYPE showcase_tick_duration gauge', 'showcase_tick_duration 1',
    '# HELP other_metric No prefix.', '# TYPE other_metric gauge', 'other_metric 1',
    '# HELP showcase_BadCase Case.', '# TYPE showcase_BadCase gauge', 'showcase_BadCase 1',
    '# TYPE showcase_no_help gauge', 'showcase_no_help{__x="1"} 1',
  ].join('\n');
  const problems = lintPromFamilies(parsePromText(text).values());
  t.same(problems, [
    "showcase_requests: a counter's name must end in _total",
    'showcase_open_total: only counters may end in _total',
    'showcase_latency_ms: "ms" is not a base unit (use seconds or bytes)',
    'showcase_latency_ms: a duration or time must be in seconds (name it ..._seconds)',
    'showcase_tick_duration: a duration or time must be in seconds (name it ..._seconds)',
    'other_metric: must match ^showcase_[a-z0-9_]+$',
    'showcase_BadCase: must match ^showcase_[a-z0-9_]+$',
    'showcase_no_help: no HELP text',
    'showcase_no_help: label __x uses the reserved __ prefix',
  ]);
});
