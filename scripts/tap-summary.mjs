#!/usr/bin/env node
// Reads TAP (tap --reporter=tap) on stdin, echoes it, and ends with "N passed, N failed[, N skipped]"
// counted from the real test points. Only leaf points count: a subtest's own summary line (the "ok"
// that follows its nested plan) is not an extra test, except a failed subtest none of whose points
// failed (a test file that crashed before or between its tests, "1..0 # no tests found", a missing
// plan, a timeout): that counts as one failure, so the line never says 0 failed when tap failed.
// Exit status: non-zero when anything failed, when no test ran, or when the stream reports a bail out.
import { createInterface } from 'node:readline';

const rl = createInterface({ input: process.stdin });
let passed = 0, failed = 0, skipped = 0, bailed = false;
let prev = '';
const point = /^(\s*)(not ok|ok)\b(?:\s+\d+)?(.*)$/;
const plan = /^(\s*)1\.\.\d+/;
const subtest = /^(\s*)# Subtest\b/;
/** Failures counted when each open subtest began, by indent (its header's and its summary point's). */
const opened = new Map();
for await (const line of rl) {
  process.stdout.write(line + '\n');
  if (/^\s*Bail out!/.test(line)) bailed = true;
  const s = subtest.exec(line);
  if (s) opened.set(s[1].length, failed);
  const m = point.exec(line);
  if (m) {
    const indent = m[1].length;
    const p = plan.exec(prev);
    const start = opened.get(indent);
    const isParent = start !== undefined || (p !== null && p[1].length > indent);
    const directive = /#\s*(skip|todo)\b/i.test(m[3]);
    if (!isParent) {
      if (directive) skipped++;
      else if (m[2] === 'ok') passed++;
      else failed++;
    } else if (m[2] === 'not ok' && !directive && start !== undefined && failed === start) {
      failed++;
    }
    opened.delete(indent);
  }
  if (line.trim() !== '' && !/^\s*#/.test(line)) prev = line;
}
if (bailed) failed = Math.max(failed, 1);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
