import t from 'tap';
import { AuthFailureLimiter } from '../../src/core/auth-failure-limiter.js';
import { ShowcaseError } from '../../src/core/errors.js';

function code(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof ShowcaseError ? err.code : String(err);
  }
}

t.test('failure(): counts failures, answers 429 past the budget until the window ends', async (t) => {
  let now = 1_000_000;
  const l = new AuthFailureLimiter(3, 60_000, 100, () => now);
  t.same([1, 2, 3].map(() => code(() => l.failure('10.0.0.1'))), [undefined, undefined, undefined], 'the first three failures are the caller\'s own refusal');
  t.equal(code(() => l.failure('10.0.0.1')), 'SHOWCASE_ERR_RATE_LIMITED', 'the fourth is 429');
  t.equal(l.failures, 3);
  t.equal(l.limited, 1);
  t.equal(code(() => l.failure('10.0.0.2')), undefined, 'other addresses are not affected');
  now += 60_000;
  t.equal(code(() => l.failure('10.0.0.1')), undefined, 'a new window starts afresh');
});

t.test('the table of addresses is bounded', async (t) => {
  const l = new AuthFailureLimiter(1, 60_000, 2);
  l.failure('a');
  l.failure('b');
  l.failure('c'); // evicts 'a'
  t.equal(code(() => l.failure('a')), undefined, 'the oldest address was forgotten');
  t.equal(code(() => l.failure('c')), 'SHOWCASE_ERR_RATE_LIMITED');
});
