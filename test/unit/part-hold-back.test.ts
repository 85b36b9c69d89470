import t from 'tap';
import { serverControl } from '../../src/playback/hls/playlist-writer.js';
import { loadConfig } from '../../src/config/load-config.js';

t.test('PART-HOLD-BACK is hls.partHoldBackParts part targets, 3 by default', async (t) => {
  t.same(serverControl({ segmentSeconds: 2, partSeconds: 1 / 3 }), { partHoldBack: 1.002, holdBack: 6, canSkipUntil: 12 });
  t.equal(serverControl({ segmentSeconds: 2, partSeconds: 1 / 3, partHoldBackParts: 2 }).partHoldBack, 0.668);
  t.equal(serverControl({ segmentSeconds: 2, partSeconds: 0.4, partHoldBackParts: 4 }).partHoldBack, 1.6);
  // Below the spec's minimum of twice PART-TARGET never reaches a playlist, even if a caller passes it.
  t.equal(serverControl({ segmentSeconds: 2, partSeconds: 1 / 3, partHoldBackParts: 1 }).partHoldBack, 0.668);
});

t.test('hls.partHoldBackParts is validated: default 3, at least 2 (rfc8216bis), at most 6', async (t) => {
  t.equal(loadConfig({ env: {} }).hls.partHoldBackParts, 3);
  t.equal(loadConfig({ env: {}, overrides: { hls: { partHoldBackParts: 2 } } }).hls.partHoldBackParts, 2);
  t.throws(() => loadConfig({ env: {}, overrides: { hls: { partHoldBackParts: 1 } } }), { code: 'SHOWCASE_ERR_CONFIG_INVALID' });
  t.throws(() => loadConfig({ env: {}, overrides: { hls: { partHoldBackParts: 7 } } }), { code: 'SHOWCASE_ERR_CONFIG_INVALID' });
});
