import t from 'tap';
import { readFileSync } from 'node:fs';
import { ErrorCodes, ShowcaseError } from '../../src/core/errors.js';

t.test('every error code is documented in the README', async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const code of Object.keys(ErrorCodes)) {
    t.ok(readme.includes(code), `${code} is documented`);
  }
});

t.test('ShowcaseError serializes without a stack', async (t) => {
  const err = new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no such stream');
  t.equal(err.status, 404);
  t.same(JSON.parse(JSON.stringify(err)), { error: { code: 'SHOWCASE_ERR_NOT_FOUND', message: 'no such stream' } });
});
