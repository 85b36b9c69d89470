// The watch page's rule for which promo codes it lists (src/web/watch/promo-banner.ts), as pure
// code: inside their dates on the shopper's clock, and liveOnly ones only while live.
import t from 'tap';
import { promoShown } from '../../src/web/watch/promo-banner.js';

t.test('dates and liveOnly', async (t) => {
  const now = Date.parse('2026-12-03T15:00:00Z');
  t.ok(promoShown({ code: 'A', description: '' }, now, false), 'no rule: shown, live or not');
  t.ok(promoShown({ code: 'A', description: '', liveOnly: true }, now, true), 'liveOnly while live');
  t.notOk(promoShown({ code: 'A', description: '', liveOnly: true }, now, false), 'liveOnly once not live');
  t.notOk(promoShown({ code: 'A', description: '', startsAt: '2026-12-03T15:00:01Z' }, now, true), 'before its start');
  t.ok(promoShown({ code: 'A', description: '', startsAt: '2026-12-03T15:00:00Z' }, now, true), 'from its start');
  t.ok(promoShown({ code: 'A', description: '', endsAt: '2026-12-03T15:00:00.001Z' }, now, true), 'until its end');
  t.notOk(promoShown({ code: 'A', description: '', endsAt: '2026-12-03T15:00:00Z' }, now, true), 'not at its end');
  t.ok(promoShown({ code: 'A', description: '', startsAt: null, endsAt: null, liveOnly: false }, now, false), 'nulls are open');
});
