// scripts/tap-summary.mjs: the "N passed, N failed" line CI reads, counted from tap's TAP output.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const script = join(import.meta.dirname, '..', '..', 'scripts', 'tap-summary.mjs');
const summarize = (tap: string): { line: string; status: number | null } => {
  const r = spawnSync(process.execPath, [script], { input: tap, encoding: 'utf8' });
  return { line: r.stdout.trim().split('\n').at(-1)!, status: r.status };
};

t.test('leaf points count; a subtest\'s own summary point does not', async (t) => {
  const r = summarize(['TAP version 14', '# Subtest: a.test.ts', '    # Subtest: one', '        ok 1 - x', '        ok 2 - y', '        1..2',
    '    ok 1 - one', '    ok 2 - flat', '    1..2', 'ok 1 - a.test.ts', '1..1', ''].join('\n'));
  t.equal(r.line, '3 passed, 0 failed');
  t.equal(r.status, 0);
});

t.test('a test file that crashed before its first test is one failure', async (t) => {
  const r = summarize(['TAP version 14', '# Subtest: a.test.ts', '    ok 1 - x', '    1..1', 'ok 1 - a.test.ts',
    '# Subtest: b.test.ts', '    1..0 # no tests found', 'not ok 2 - b.test.ts', '  ---', '  exitCode: 1', '  ...', '1..2', ''].join('\n'));
  t.equal(r.line, '1 passed, 1 failed');
  t.equal(r.status, 1);
});

t.test('a failed point is counted once, not again by the subtests around it; a timed-out subtest counts', async (t) => {
  const r = summarize(['TAP version 14', '# Subtest: c.test.ts', '    # Subtest: two', '        ok 1 - x', '        not ok 2 - y', '        1..2',
    '    not ok 1 - two', '    ok 2 - later # SKIP no chromium', '    1..2', 'not ok 1 - c.test.ts',
    '# Subtest: d.test.ts', '    # Subtest: three', '        ok 1 - x', '    not ok 1 - three # timeout', '    1..1', 'not ok 2 - d.test.ts', '1..2', ''].join('\n'));
  t.equal(r.line, '2 passed, 2 failed, 1 skipped');
  t.equal(r.status, 1);
});

t.test('nothing ran, or a bail out: a failing status', async (t) => {
  t.equal(summarize('TAP version 14\n1..0\n').status, 1);
  const bail = summarize('TAP version 14\n# Subtest: a\n    ok 1 - x\nBail out! db down\n');
  t.equal(bail.line, '1 passed, 1 failed');
  t.equal(bail.status, 1);
});
