import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startServer, waitFor, getText } from '../helpers/server.js';
import { publishRtmp } from '../helpers/ffmpeg.js';

t.test('a restart keeps creators and streams; a rotated key is refused, the new one accepted', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'showcase-persist-'));
  let srv = await startServer({ dataDir });
  const c = await srv.api('POST', '/v1/creators', { handle: 'dana', displayName: 'Dana' });
  const s = await srv.api('POST', '/v1/streams', { title: 'Persisted' }, c.json.token);
  const oldKey = s.json.streamKey as string;
  const rotated = await srv.api('POST', `/v1/streams/${s.json.id}/key`, undefined, c.json.token);
  const newKey = rotated.json.streamKey as string;
  t.not(newKey, oldKey);
  await srv.close({ keepData: true });

  srv = await startServer({ dataDir });
  t.teardown(() => srv.close());
  const again = await srv.api('GET', `/v1/streams/${s.json.id}`, undefined, c.json.token);
  t.equal(again.status, 200, 'the creator token still works after a restart');
  t.equal(again.json.title, 'Persisted');
  t.equal((await srv.api('GET', `/v1/creators/${c.json.id}`)).json.handle, 'dana');

  const refused = publishRtmp(`${srv.rtmp}/${oldKey}`, 2);
  t.not(await refused.done, 0, 'old key refused by a real RTMP publish');
  const ok = publishRtmp(`${srv.rtmp}/${newKey}`, 4);
  await waitFor(async () => (await getText(`${srv.base}/hls/${s.json.id}/master.m3u8`)).status === 200, 'new key publishes');
  t.equal(await ok.done, 0);
});

t.test('a corrupt or too-new database stops the server with a clear, coded error', { skip: !existsSync('dist/src/main.js') && 'build first' }, async (t) => {
  const corrupt = mkdtempSync(join(tmpdir(), 'showcase-corrupt-'));
  writeFileSync(join(corrupt, 'showcase.db'), Buffer.alloc(8192, 0x5a));
  const env = { ...process.env, SHOWCASE_HTTP_PORT: '0', SHOWCASE_RTMP_PORT: '0', SHOWCASE_ADMIN_TOKEN: 'x' };
  const r1 = spawnSync(process.execPath, ['dist/src/main.js'], { env: { ...env, SHOWCASE_DATA_DIR: corrupt }, encoding: 'utf8', timeout: 20000 });
  t.equal(r1.status, 65, 'exit code 65');
  t.match(r1.stderr, /SHOWCASE_ERR_STORE_CORRUPT/);

  const newer = mkdtempSync(join(tmpdir(), 'showcase-newer-'));
  const db = new Database(join(newer, 'showcase.db'));
  db.pragma('user_version = 999');
  db.close();
  const r2 = spawnSync(process.execPath, ['dist/src/main.js'], { env: { ...env, SHOWCASE_DATA_DIR: newer }, encoding: 'utf8', timeout: 20000 });
  t.equal(r2.status, 66, 'exit code 66');
  t.match(r2.stderr, /SHOWCASE_ERR_STORE_TOO_NEW/);

  const badConfig = spawnSync(process.execPath, ['dist/src/main.js'], { env: { ...env, SHOWCASE_HTTP_PORT: 'eighty' }, encoding: 'utf8', timeout: 20000 });
  t.equal(badConfig.status, 78);
  t.match(badConfig.stderr, /SHOWCASE_ERR_CONFIG_INVALID/);
});
